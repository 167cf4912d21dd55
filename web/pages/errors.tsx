/**
 * Pages for what went wrong: not found, not allowed, a service unavailable.
 * @module
 */
import { Layout, type PageContext } from "./layout.tsx";

/** 404. */
export function NotFoundPage(props: { ctx: PageContext; what?: string }) {
  return (
    <Layout ctx={props.ctx} title="Not found">
      <h1>Not found</h1>
      <p>
        {props.what ?? "There is no such page."} <a href="/">Back to the catalogue</a>.
      </p>
    </Layout>
  );
}

/** 403: signed in, but not an admin. */
export function ForbiddenPage(props: { ctx: PageContext }) {
  return (
    <Layout ctx={props.ctx} title="Not allowed">
      <h1>Not allowed</h1>
      <p>
        This page is for admins. <a href="/">Back to the catalogue</a>.
      </p>
    </Layout>
  );
}

/** 502/503: a service the page needs did not answer. */
export function UnavailablePage(props: { ctx: PageContext; requestId: string }) {
  return (
    <Layout ctx={props.ctx} title="Unavailable">
      <h1>Something is unavailable</h1>
      <p>
        A service this page needs did not answer. Try again in a moment (request{" "}
        <code>{props.requestId}</code>).
      </p>
    </Layout>
  );
}
