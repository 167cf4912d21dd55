/**
 * Fills .stocklet/proto-deps with the third-party .proto files our contracts import, from pinned
 * registry packages: google/api from npm `google-proto-files`, gRPC's health and reflection
 * services from npm `grpc-health-check` and `@grpc/reflection` (all installed by ./deno into tools/;
 * the kit serves those two services itself, from the code generated here), buf/validate from the Go
 * module `github.com/bufbuild/protovalidate`. Nothing is committed and the Buf Schema Registry is
 * never contacted.
 */
import { join } from "node:path";
import { ROOT, STATE_DIR } from "../lib/paths.ts";
import { run } from "../lib/run.ts";

/** The protovalidate module whose validate.proto matches npm @bufbuild/protovalidate 1.3.0. */
export const PROTOVALIDATE_MODULE = "github.com/bufbuild/protovalidate@v1.2.2";
/** Where buf finds the dependencies (a module of buf.yaml). */
export const PROTO_DEPS_DIR: string = join(STATE_DIR, "proto-deps");

/**
 * gRPC's own services, generated like ours (shared/gen/grpc): each npm file (under tools/node_modules)
 * and its canonical path, the one gRPC's repository gives it and reflection clients expect.
 */
const GRPC_PROTOS: ReadonlyArray<{ from: string; to: string }> = [
  { from: "grpc-health-check/proto/health/v1/health.proto", to: "grpc/health/v1/health.proto" },
  ...["v1", "v1alpha"].map((v) => ({
    from: `@grpc/reflection/build/proto/grpc/reflection/${v}/reflection.proto`,
    to: `grpc/reflection/${v}/reflection.proto`,
  })),
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function copy(from: string, to: string): Promise<void> {
  await Deno.mkdir(join(to, ".."), { recursive: true });
  await Deno.copyFile(from, to);
}

/** Makes sure every imported third-party .proto is in {@linkcode PROTO_DEPS_DIR}. */
export async function prepareProtoDeps(): Promise<void> {
  const googleApi = join(ROOT, "tools", "node_modules", "google-proto-files", "google", "api");
  for (const f of ["annotations.proto", "http.proto"]) {
    await copy(join(googleApi, f), join(PROTO_DEPS_DIR, "google", "api", f));
  }
  for (const { from, to } of GRPC_PROTOS) {
    await copy(join(ROOT, "tools", "node_modules", from), join(PROTO_DEPS_DIR, to));
  }
  const validate = join(PROTO_DEPS_DIR, "buf", "validate", "validate.proto");
  const stamp = join(PROTO_DEPS_DIR, "buf", "validate", ".module");
  if (
    await exists(validate) &&
    (await Deno.readTextFile(stamp).catch(() => "")) === PROTOVALIDATE_MODULE
  ) return;
  console.error(`gen: fetching ${PROTOVALIDATE_MODULE} from the Go module proxy...`);
  let out;
  try {
    out = await run("go", ["mod", "download", "-json", PROTOVALIDATE_MODULE], {
      capture: true,
      env: { GOFLAGS: "-modcacherw", GO111MODULE: "on" },
      cwd: STATE_DIR,
    });
  } catch (e) {
    throw new Error(
      `could not fetch ${PROTOVALIDATE_MODULE}: Go is needed to regenerate code (apt-get install golang)\n${e}`,
    );
  }
  const dir = JSON.parse(out.stdout).Dir as string;
  await copy(join(dir, "proto", "protovalidate", "buf", "validate", "validate.proto"), validate);
  await Deno.writeTextFile(stamp, PROTOVALIDATE_MODULE);
}
