/**
 * Logging in and registering. The forms post to the API through the edge (`/v1/auth/login`,
 * `/v1/user/register`) from app.js, which keeps the access token in the session cookie and goes
 * back where the person came from.
 * @module
 */
import { Field, FormError, Layout, type PageContext } from "./layout.tsx";

/** A path on this site to go to afterwards (anything else goes home). */
export function safeNext(next: string | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")
    ? next
    : "/";
}

/** The log-in page. */
export function LoginPage(props: { ctx: PageContext; next: string }) {
  return (
    <Layout ctx={props.ctx} title="Log in">
      <div class="narrow">
        <h1>Log in</h1>
        <form data-api="POST /v1/auth/login" data-then="session" data-next={props.next} novalidate>
          <FormError />
          <Field id="email" name="email" label="Email" type="email" autocomplete="email" required />
          <Field
            id="password"
            name="password"
            label="Password"
            type="password"
            autocomplete="current-password"
            required
          />
          <button type="submit" class="primary">Log in</button>
        </form>
        <p>
          New here? <a href={`/register?next=${encodeURIComponent(props.next)}`}>Register</a>
        </p>
      </div>
    </Layout>
  );
}

/** The registration page. */
export function RegisterPage(props: { ctx: PageContext; next: string }) {
  return (
    <Layout ctx={props.ctx} title="Register">
      <div class="narrow">
        <h1>Register</h1>
        <form
          data-api="POST /v1/user/register"
          data-then="register"
          data-next={props.next}
          novalidate
        >
          <FormError />
          <Field
            id="first_name"
            name="first_name"
            label="First name"
            autocomplete="given-name"
            required
          />
          <Field
            id="last_name"
            name="last_name"
            label="Last name"
            autocomplete="family-name"
            required
          />
          <Field id="email" name="email" label="Email" type="email" autocomplete="email" required />
          <Field
            id="password"
            name="password"
            label="Password"
            type="password"
            autocomplete="new-password"
            hint="At least 8 characters."
            required
          />
          <button type="submit" class="primary">Register</button>
        </form>
        <p>
          Already registered? <a href={`/login?next=${encodeURIComponent(props.next)}`}>Log in</a>
        </p>
      </div>
    </Layout>
  );
}
