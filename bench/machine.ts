/**
 * What machine a run happened on: cores, memory, CPU model (from /proc), kernel and Deno version.
 * @module
 */

/** The machine a result was measured on. */
export interface MachineInfo {
  nproc: number;
  memTotalGiB: number;
  cpuModel: string;
  kernel: string;
  deno: string;
  v8: string;
  os: string;
}

/** Parses the first `model name` of /proc/cpuinfo text ("unknown" when absent). */
export function cpuModelOf(cpuinfo: string): string {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
}

/** Parses MemTotal (KiB) of /proc/meminfo text into GiB (NaN when absent). */
export function memTotalGiBOf(meminfo: string): number {
  const kib = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1]);
  return Math.round((kib / 1024 / 1024) * 10) / 10;
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The current machine. */
export function machineInfo(): MachineInfo {
  const cpuinfo = read("/proc/cpuinfo");
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  return {
    nproc: navigator.hardwareConcurrency || cores,
    memTotalGiB: memTotalGiBOf(read("/proc/meminfo")),
    cpuModel: cpuModelOf(cpuinfo),
    kernel: read("/proc/sys/kernel/osrelease").trim() || Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.build.arch}`,
  };
}
