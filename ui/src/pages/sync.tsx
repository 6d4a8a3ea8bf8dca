import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Spinner, formatDate, useTitle } from "../components";
import { check, rules, type Errors } from "../validate";
import { useUser } from "../App";

/** Devices and sync: the servers this instance syncs with (instance admins), and the
 *  devices paired with this instance under the signed-in account. */
export function SyncPage() {
  useTitle("Devices and sync");
  const user = useUser();
  return (
    <>
      <header className="page-head">
        <h1>Devices and sync</h1>
      </header>
      {user?.is_instance_admin ? <Peers /> : null}
      <Devices />
    </>
  );
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A peer's last error without its leading code (`device_revoked: the server…`). */
function reason(e: string): string {
  return e.replace(/^[a-z_]+: /, "");
}

function Peers() {
  const qc = useQueryClient();
  // Status changes on its own (connections come and go): asked again every two seconds.
  const list = useQuery({
    queryKey: ["peers"],
    queryFn: () => unwrap(client.GET("/api/v1/sync/peers")),
    refetchInterval: 2000,
  });
  const [url, setUrl] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [deviceName, setDeviceName] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/sync/peers", {
          body: { url: url.trim(), email: email.trim(), password, device_name: deviceName.trim() || null },
        }),
      ),
    onSuccess: () => {
      setUrl("");
      setPassword("");
      void qc.invalidateQueries({ queryKey: ["peers"] });
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    add.reset();
    const errs = check({ email: [email, rules.email] });
    if (!/^https?:\/\/\S+$/.test(url.trim())) errs.url = "An address starting with http:// or https://";
    if (!password) errs.password = "Enter the password of your account there";
    setErrors(errs);
    if (!Object.keys(errs).length) add.mutate();
  };
  return (
    <section className="section" aria-labelledby="peers-title">
      <h2 id="peers-title">Servers this instance syncs with</h2>
      <p className="muted">
        This instance keeps working offline and merges with the server when it can reach it. It receives the workspaces and projects your account there may
        read.
      </p>
      <form className="inline-form" onSubmit={submit} noValidate aria-label="Connect to a server">
        <Field label="Server address" value={url} placeholder="http://192.168.1.20:7420" onChange={(e) => setUrl(e.target.value)} error={errors.url} />
        <Field label="Email there" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
        <Field
          label="Password there"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <Field label="Name of this device" value={deviceName} placeholder="Ana's laptop" onChange={(e) => setDeviceName(e.target.value)} error={errors.device_name} />
        <button type="submit" className="primary" disabled={add.isPending}>
          {add.isPending ? "Connecting…" : "Connect"}
        </button>
      </form>
      {add.isError && !Object.keys(fieldsOf(add.error)).length ? <ErrorNote error={add.error} /> : null}
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error} />
      {list.data && list.data.length === 0 ? <Empty title="Not syncing with any server" /> : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Sync servers">
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Status</th>
                <th scope="col">Last sync</th>
                <th scope="col">Waiting to go out</th>
                <th scope="col" className="hide-narrow">
                  Traffic (in / out)
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((p) => (
                <tr key={p.id}>
                  <td className="strong">{p.url}</td>
                  <td>
                    {p.connected ? (
                      <span className="badge ok">Connected</span>
                    ) : (
                      <>
                        <span className="badge">Offline</span> {p.last_error ? <span className="muted">{reason(p.last_error)}</span> : null}
                      </>
                    )}
                  </td>
                  <td>
                    {p.last_sync_at ? formatDate(p.last_sync_at) : "Never"}
                    {p.last_sync_ms != null ? <span className="muted"> (caught up in {(p.last_sync_ms / 1000).toFixed(1)} s)</span> : null}
                  </td>
                  <td>{p.pending === 0 ? "Nothing" : `${p.pending} document${p.pending === 1 ? "" : "s"}`}</td>
                  <td className="hide-narrow">
                    {bytes(p.bytes_received)} / {bytes(p.bytes_sent)}
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

function Devices() {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: ["devices"],
    queryFn: () => unwrap(client.GET("/api/v1/users/me/devices")),
    refetchInterval: 5000,
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(client.DELETE("/api/v1/users/me/devices/{device_id}", { params: { path: { device_id: id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["devices"] }),
  });
  return (
    <section className="section" aria-labelledby="devices-title">
      <h2 id="devices-title">Your devices</h2>
      <p className="muted">
        Other Keel instances (a desktop, an edge node) that sync with this one as you. Revoking a device cuts its connection at once; it keeps what it has and
        syncs no more.
      </p>
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error ?? revoke.error} />
      {list.data && list.data.length === 0 ? (
        <Empty title="No devices">
          <p className="muted">
            On another instance, open Devices and sync and connect to this server, or run <code>keel sync connect {window.location.origin}</code>.
          </p>
        </Empty>
      ) : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Devices">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="hide-narrow">
                  Paired
                </th>
                <th scope="col">Last seen</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((d) => (
                <tr key={d.id}>
                  <td className="strong">{d.name}</td>
                  <td className="hide-narrow">{formatDate(d.created_at)}</td>
                  <td>{d.last_seen_at ? formatDate(d.last_seen_at) : "Never"}</td>
                  <td>{d.revoked_at ? <span className="badge">Revoked {formatDate(d.revoked_at)}</span> : <span className="badge ok">Active</span>}</td>
                  <td className="actions">
                    {d.revoked_at ? null : (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Revoke device ${d.name}`}
                        disabled={revoke.isPending}
                        onClick={() => window.confirm(`Revoke “${d.name}”? It stops syncing at once.`) && revoke.mutate(d.id)}
                      >
                        Revoke
                      </button>
                    )}
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
