/**
 * Swagger UI at `/docs`, from the npm package `swagger-ui-dist` (no CDN): the page, our
 * initialiser and the package's assets, read once from the package folder in Deno's npm cache.
 * @module
 */
import getAbsoluteFSPath from "swagger-ui-dist/absolute-path.js";

/** Where Swagger UI lives on the edge. */
export const DOCS_PATH = "/docs";
/** Where the edge serves the OpenAPI document. */
export const OPENAPI_PATH = "/openapi.json";

/** The package files the page loads, with their content types. */
export const SWAGGER_ASSETS: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const INIT_JS = "init.js";

/** The folder of the installed `swagger-ui-dist` package. */
export function swaggerUiDir(): string {
  return (getAbsoluteFSPath as () => string)();
}

function page(base: string): string {
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Stocklet API</title>
    <link rel="stylesheet" type="text/css" href="${base}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${base}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${base}/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${base}/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="${base}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="${base}/${INIT_JS}" charset="UTF-8"></script>
  </body>
</html>
`;
}

function initScript(specUrl: string): string {
  return `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(specUrl)},
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
`;
}

/** Options for {@linkcode docsHandler}. */
export interface DocsOptions {
  /** The OpenAPI document's URL. @default "/openapi.json" */
  specUrl?: string;
  /** The page's path. @default "/docs" */
  base?: string;
  /** The `swagger-ui-dist` folder. @default swaggerUiDir() */
  assetDir?: string;
}

/** Answers `GET <base>` and `GET <base>/<asset>`; undefined for any other path. */
export type DocsHandler = (path: string) => Promise<Response | undefined>;

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
};

/**
 * The Swagger UI handler. Assets are read on first use and kept in memory.
 *
 * @example
 * ```ts
 * const docs = docsHandler();
 * const res = await docs("/docs"); // the HTML page
 * ```
 */
export function docsHandler(opts: DocsOptions = {}): DocsHandler {
  const base = opts.base ?? DOCS_PATH;
  const html = page(base);
  const init = initScript(opts.specUrl ?? OPENAPI_PATH);
  const cache = new Map<string, Promise<Uint8Array>>();

  function asset(name: string): Promise<Uint8Array> {
    let file = cache.get(name);
    if (!file) {
      const dir = opts.assetDir ?? swaggerUiDir();
      file = Deno.readFile(`${dir}/${name}`);
      file.catch(() => cache.delete(name));
      cache.set(name, file);
    }
    return file;
  }

  return async (path: string): Promise<Response | undefined> => {
    if (path === base || path === `${base}/`) {
      return new Response(html, {
        headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS },
      });
    }
    if (!path.startsWith(`${base}/`)) return undefined;
    const name = path.slice(base.length + 1);
    if (name === INIT_JS) {
      return new Response(init, {
        headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
      });
    }
    const type = SWAGGER_ASSETS[name];
    if (type === undefined) return undefined;
    const body = await asset(name);
    return new Response(body.slice(), {
      headers: {
        "content-type": type,
        "cache-control": "public, max-age=86400",
        "x-content-type-options": "nosniff",
      },
    });
  };
}
