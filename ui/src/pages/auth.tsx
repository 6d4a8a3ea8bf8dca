import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type TokenPair } from "../api/client";
import { session } from "../api/session";
import { fieldsOf } from "../api/errors";
import { ErrorNote, Field, Spinner, useTitle } from "../components";
import { check, rules, type Errors } from "../validate";
import { useStatus, useUser } from "../App";

function AuthCard({ title, lead, children }: { title: string; lead?: string; children: ReactNode }) {
  useTitle(title);
  return (
    <main className="centered">
      <div className="card narrow">
        <div className="brand-line">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Keel</span>
        </div>
        <h1>{title}</h1>
        {lead ? <p className="lead">{lead}</p> : null}
        {children}
      </div>
    </main>
  );
}

/** Where to go after signing in: the `next` the sign-in page was sent with, if it is ours. */
function useNext(): string {
  const [params] = useSearchParams();
  const next = params.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function AccountForm({ submitLabel, onDone }: { submitLabel: string; onDone: () => void }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const qc = useQueryClient();
  const register = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/auth/register", { body: { display_name: name, email, password } })),
    onSuccess: (pair: TokenPair) => {
      session.accept(pair);
      void qc.invalidateQueries({ queryKey: ["status"] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ display_name: [name, rules.name], email: [email, rules.email], password: [password, rules.password] });
    if (password !== confirm) errs.confirm = "The passwords differ";
    setErrors(errs);
    if (Object.keys(errs).length === 0) register.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Field label="Your name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.display_name} autoFocus />
      <Field label="Email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
      <Field
        label="Password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
        hint="At least 8 characters"
      />
      <Field label="Repeat the password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} error={errors.confirm} />
      {register.isError && !Object.keys(fieldsOf(register.error)).length ? <ErrorNote error={register.error} /> : null}
      <button type="submit" className="primary wide" disabled={register.isPending}>
        {register.isPending ? "Creating…" : submitLabel}
      </button>
    </form>
  );
}

export function Setup() {
  const status = useStatus();
  const nav = useNavigate();
  if (status.isPending) return <Spinner />;
  if (status.data?.initialized) return <Navigate to="/login" replace />;
  return (
    <AuthCard title="Welcome to Keel" lead="Create the first account. It administers this Keel instance.">
      <AccountForm submitLabel="Create account" onDone={() => nav("/workspaces", { replace: true })} />
    </AuthCard>
  );
}

export function Register() {
  const status = useStatus();
  const nav = useNavigate();
  const next = useNext();
  if (status.isPending) return <Spinner />;
  if (!status.data?.initialized) return <Navigate to="/setup" replace />;
  if (status.data.registration === "closed") {
    return (
      <AuthCard title="Registration is closed">
        <p>This Keel does not accept new accounts. Ask its admin for an invitation.</p>
        <Link to="/login">Back to sign in</Link>
      </AuthCard>
    );
  }
  return (
    <AuthCard
      title="Create your account"
      lead={status.data.registration === "invite_only" ? "Use the email address your invitation was sent to." : undefined}
    >
      <AccountForm submitLabel="Create account" onDone={() => nav(next, { replace: true })} />
      <p className="switch">
        Have an account? <Link to={`/login${location.search}`}>Sign in</Link>
      </p>
    </AuthCard>
  );
}

export function SignIn() {
  const status = useStatus();
  const user = useUser();
  const nav = useNavigate();
  const next = useNext();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const login = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: (pair) => {
      session.accept(pair);
      nav(next, { replace: true });
    },
  });
  if (user) return <Navigate to={next} replace />;
  if (status.data && !status.data.initialized) return <Navigate to="/setup" replace />;
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ email: [email, rules.email] });
    if (!password) errs.password = "Enter your password";
    setErrors(errs);
    if (Object.keys(errs).length === 0) login.mutate();
  };
  return (
    <AuthCard title="Sign in">
      <form onSubmit={submit} noValidate>
        <Field label="Email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} autoFocus />
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.password} />
        {login.isError ? <ErrorNote error={login.error} /> : null}
        <button type="submit" className="primary wide" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {status.data && status.data.registration !== "closed" ? (
        <p className="switch">
          New here? <Link to={`/register${location.search}`}>Create an account</Link>
        </p>
      ) : null}
    </AuthCard>
  );
}

/** The desktop window opens here with a one-time token in the fragment (never sent to a server log). */
export function OneTime() {
  const loc = useLocation();
  const nav = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const token = new URLSearchParams(loc.hash.slice(1)).get("token") ?? "";
    history.replaceState(null, "", "/auth/one-time");
    unwrap(client.POST("/api/v1/auth/one-time", { body: { token } })).then(
      (pair) => {
        session.accept(pair);
        nav("/", { replace: true });
      },
      (e) => (session.user ? nav("/", { replace: true }) : setError(e)),
    );
  }, [loc.hash, nav]);
  if (!error) return <Spinner label="Signing in" />;
  return (
    <AuthCard title="Could not sign in">
      <ErrorNote error={error} />
      <Link to="/login">Sign in with a password</Link>
    </AuthCard>
  );
}

/** The link of an invitation: /invite#token=…. Signs in or registers first if needed. */
export function AcceptInvite() {
  const loc = useLocation();
  const user = useUser();
  const nav = useNavigate();
  const qc = useQueryClient();
  const token = new URLSearchParams(loc.hash.slice(1)).get("token") ?? "";
  const accept = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/invitations/accept", { body: { token } })),
    onSuccess: (ws) => {
      void qc.invalidateQueries({ queryKey: ["workspaces"] });
      nav(`/w/${ws.slug}`, { replace: true });
    },
  });
  const next = encodeURIComponent(`/invite#token=${token}`);
  if (!token) {
    return (
      <AuthCard title="Invitation link incomplete">
        <p>This link has no invitation in it. Open the whole link you were sent.</p>
      </AuthCard>
    );
  }
  if (!user) {
    return (
      <AuthCard title="You are invited" lead="Sign in or create an account with the email address the invitation was sent to.">
        <div className="row">
          <Link className="button primary" to={`/login?next=${next}`}>
            Sign in
          </Link>
          <Link className="button" to={`/register?next=${next}`}>
            Create account
          </Link>
        </div>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Join the workspace" lead={`You are signed in as ${user.email}.`}>
      {accept.isError ? <ErrorNote error={accept.error} /> : null}
      <button type="button" className="primary wide" onClick={() => accept.mutate()} disabled={accept.isPending}>
        {accept.isPending ? "Joining…" : "Accept invitation"}
      </button>
    </AuthCard>
  );
}
