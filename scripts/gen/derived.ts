/** Files derived from the contracts (and the code's subscriptions) that `deno task gen` writes. */

/** One generated file. */
export interface DerivedArtifact {
  /** Path relative to the repository root. */
  path: string;
  /** Renders the file's full text. */
  render(): Promise<string>;
}

/** Every derived file; later issues add the OpenAPI document, the event catalogue and Envoy. */
export const derivedArtifacts: DerivedArtifact[] = [];
