import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { session } from "../api/session";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Secret, Spinner, formatDate, useTitle } from "../components";
import { check, rules, type Errors } from "../validate";
import { useUser } from "../App";

export function Account() {
  useTitle("Account");
  return (
    <>
      <header className="page-head">
        <h1>Account</h1>
      </header>
      <Profile />
      <Password />
      <Tokens />
    </>
  );
}

function Profile() {
  const user = useUser();
  const [name, setName] = useState(user?.display_name ?? "");
  const [errors, setErrors] = useState<Errors>({});
  const save = useMutation({
    mutationFn: () => unwrap(client.PATCH("/api/v1/users/me", { body: { display_name: name } })),
    onSuccess: (u) => session.setUser(u),
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ display_name: [name, rules.name] });
    setErrors(errs);
    if (!Object.keys(errs).length) save.mutate();
  };
  return (
    <section className="section" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form onSubmit={submit} noValidate className="narrow-form">
        <Field label="Email" value={user?.email ?? ""} readOnly disabled />
        <Field label="Display name" value={name} onChange={(e) => setName(e.target.value)} error={errors.display_name} />
        {save.isError && !Object.keys(fieldsOf(save.error)).length ? <ErrorNote error={save.error} /> : null}
        {save.isSuccess ? (
          <p className="ok" role="status">
            Saved.
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={save.isPending}>
          Save profile
        </button>
      </form>
    </section>
  );
}

function Password() {
  const user = useUser();
  const hasPassword = user?.has_password ?? true;
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const change = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/users/me/password", { body: { current_password: current, new_password: next } })),
    onSuccess: () => {
      setCurrent("");
      setNext("");
      setConfirm("");
      if (user) session.setUser({ ...user, has_password: true });
    },
    onError: (e) => {
      const f = fieldsOf(e);
      setErrors(f.new_password ? { new: f.new_password } : {});
    },
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ new: [next, rules.password] });
    if (hasPassword && !current) errs.current = "Enter your current password";
    if (next !== confirm) errs.confirm = "The passwords differ";
    setErrors(errs);
    if (!Object.keys(errs).length) change.mutate();
  };
  return (
    <section className="section" aria-labelledby="password-title">
      <h2 id="password-title">{hasPassword ? "Password" : "Set a password"}</h2>
      {!hasPassword ? <p className="muted">This account was created by the desktop app. Set a password to sign in from other devices.</p> : null}
      <form onSubmit={submit} noValidate className="narrow-form">
        {hasPassword ? (
          <Field label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} error={errors.current} />
        ) : null}
        <Field label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} error={errors.new} hint="At least 8 characters" />
        <Field label="Repeat the new password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} error={errors.confirm} />
        {change.isError && !Object.keys(fieldsOf(change.error)).length ? <ErrorNote error={change.error} /> : null}
        {change.isSuccess ? (
          <p className="ok" role="status">
            Password changed. Signed out: {plural(change.data.sessions, "other session")},{" "}
            {plural(change.data.api_tokens, "API token")}, {plural(change.data.devices, "paired device")}.
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={change.isPending}>
          {hasPassword ? "Change password" : "Set password"}
        </button>
      </form>
    </section>
  );
}

function Tokens() {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const [errors, setErrors] = useState<Errors>({});
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const list = useQuery({
    queryKey: ["tokens"],
    queryFn: () => unwrap(client.GET("/api/v1/users/me/tokens", { params: { query: { per_page: 500 } } })),
  });
  const create = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/users/me/tokens", { body: { name, expires_in_days: Number(days) } })),
    onSuccess: (t) => {
      setSecret({ name: t.name, token: t.token });
      setName("");
      void qc.invalidateQueries({ queryKey: ["tokens"] });
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/users/me/tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["tokens"] }),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ name: [name, rules.name] });
    const d = Number(days);
    if (!Number.isInteger(d) || d < 1 || d > 365) errs.expires_in_days = "1 to 365 days";
    setErrors(errs);
    setSecret(null);
    if (!Object.keys(errs).length) create.mutate();
  };
  return (
    <section className="section" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">Tokens let scripts call Keel's API as you. They cannot change your password or make more tokens.</p>
      <form className="inline-form" onSubmit={submit} noValidate>
        <Field label="Token name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
        <Field label="Expires in (days)" type="number" min={1} max={365} value={days} onChange={(e) => setDays(e.target.value)} error={errors.expires_in_days} />
        <button type="submit" className="primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {create.isError && !Object.keys(fieldsOf(create.error)).length ? <ErrorNote error={create.error} /> : null}
      {secret ? (
        <div className="notice" role="status">
          <p>
            Token <strong>{secret.name}</strong> created. Copy it now: it is shown only once.
          </p>
          <Secret label="New API token" value={secret.token} />
        </div>
      ) : null}
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error ?? revoke.error} />
      {list.data && list.data.items.length === 0 ? <Empty title="No API tokens" /> : null}
      {list.data && list.data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="hide-narrow">
                  Created
                </th>
                <th scope="col">Expires</th>
                <th scope="col" className="hide-narrow">
                  Last used
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id}>
                  <td className="strong">{t.name}</td>
                  <td className="hide-narrow">{formatDate(t.created_at)}</td>
                  <td>{formatDate(t.expires_at)}</td>
                  <td className="hide-narrow">{t.last_used_at ? formatDate(t.last_used_at) : "Never"}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Revoke token ${t.name}`}
                      disabled={revoke.isPending}
                      onClick={() => window.confirm(`Revoke the token “${t.name}”? Scripts using it will stop working.`) && revoke.mutate(t.id)}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/// "1 paired device", "2 paired devices".
function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
