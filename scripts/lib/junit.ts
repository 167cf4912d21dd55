/** Counting results from `deno test --junit-path` XML. */

/** Test counts. */
export interface JunitCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts the testcases of a JUnit XML document: failed = with <failure> or <error>. */
export function countJunit(xml: string): JunitCounts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const re = /<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[2] ?? "";
    if (/<(failure|error)\b/.test(body)) counts.failed++;
    else if (/<skipped\b/.test(body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}
