/**
 * The `ServiceInfo` answer every service gives.
 * @module
 */

/** What `GET /v1/<svc>/service` answers. */
export interface ServiceInfo {
  name: string;
  source: string;
  sourceLicense: string;
}

/** The service's name, where its source lives and its licence. */
export function serviceInfo(name: string): ServiceInfo {
  return {
    name,
    source: "https://github.com/stocklet/stocklet-deno",
    sourceLicense: "MIT",
  };
}
