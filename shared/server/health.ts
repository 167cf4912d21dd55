/**
 * Liveness and readiness. A process is alive while it serves; it is ready when every dependency
 * check (database, Kafka, …) passes.
 * @module
 */

/** Named dependency checks; each throws when its dependency is unreachable. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** The readiness report. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, "ok" | string>;
}

/** Runs every check (each bounded by timeoutMs) and reports which failed. */
export async function checkReadiness(
  checks: ReadinessChecks,
  timeoutMs = 2000,
): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`timed out after ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
        return [name, "ok"] as const;
      } catch (e) {
        return [name, e instanceof Error ? e.message : String(e)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: entries.every(([, s]) => s === "ok"), checks: Object.fromEntries(entries) };
}
