import { useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Invitation, type Member, type WsRole } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, SelectField, Secret, Spinner, formatDate, useTitle } from "../components";
import { check, rules, type Errors } from "../validate";
import { useWorkspace } from "./workspaces";
import { useUser } from "../App";

const ROLES: WsRole[] = ["owner", "admin", "member", "guest"];
const RANK: Record<WsRole, number> = { guest: 0, member: 1, admin: 2, owner: 3 };
const LABEL: Record<WsRole, string> = { owner: "Owner", admin: "Admin", member: "Member", guest: "Guest" };

export function Members() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Members` : "Members");
  const myRole = ws.data?.role ?? "guest";
  const isAdmin = RANK[myRole] >= RANK.admin;
  const members = useQuery({
    queryKey: ["members", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/members", { params: { path: { slug }, query: { per_page: 500 } } })),
  });
  if (ws.isError) return <ErrorNote error={ws.error} retry={() => void ws.refetch()} />;
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Members</h1>
        </div>
      </header>
      {members.isPending ? <Spinner /> : null}
      <ErrorNote error={members.error} retry={() => void members.refetch()} />
      {members.data ? (
        <div className="table-wrap">
          <table aria-label="Members">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="hide-narrow">
                  Email
                </th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.items.map((m) => (
                <MemberRow key={m.id} slug={slug} member={m} myRole={myRole} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {isAdmin ? <Invitations slug={slug} myRole={myRole} /> : null}
    </>
  );
}

function MemberRow({ slug, member: m, myRole }: { slug: string; member: Member; myRole: WsRole }) {
  const me = useUser();
  const qc = useQueryClient();
  const nav = useNavigate();
  const isMe = me?.id === m.user_id;
  const isAdmin = RANK[myRole] >= RANK.admin;
  // Nobody grants above their own role; only owners touch owners.
  const canEdit = isAdmin && !isMe && (m.role !== "owner" || myRole === "owner");
  const path = { params: { path: { slug, user_id: m.user_id } } };
  const role = useMutation({
    mutationFn: (r: WsRole) => unwrap(client.PATCH("/api/v1/workspaces/{slug}/members/{user_id}", { ...path, body: { role: r } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["members", slug] }),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE("/api/v1/workspaces/{slug}/members/{user_id}", path)),
    onSuccess: () => {
      if (isMe) {
        void qc.invalidateQueries({ queryKey: ["workspaces"] });
        nav("/workspaces");
      } else void qc.invalidateQueries({ queryKey: ["members", slug] });
    },
  });
  const confirmRemove = () => {
    const q = isMe ? "Leave this workspace?" : `Remove ${m.display_name} from this workspace?`;
    if (window.confirm(q)) remove.mutate();
  };
  return (
    <tr>
      <td>
        <span className="strong">{m.display_name}</span>
        {isMe ? <span className="badge">you</span> : null}
        <ErrorNote error={role.error ?? remove.error} />
      </td>
      <td className="hide-narrow">{m.email ?? "—"}</td>
      <td>
        {canEdit ? (
          <select aria-label={`Role of ${m.display_name}`} value={m.role} disabled={role.isPending} onChange={(e) => role.mutate(e.target.value as WsRole)}>
            {ROLES.filter((r) => RANK[r] <= RANK[myRole]).map((r) => (
              <option key={r} value={r}>
                {LABEL[r]}
              </option>
            ))}
          </select>
        ) : (
          LABEL[m.role]
        )}
      </td>
      <td className="actions">
        {canEdit || isMe ? (
          <button type="button" className="danger" onClick={confirmRemove} disabled={remove.isPending}>
            {isMe ? "Leave" : "Remove"}
          </button>
        ) : null}
      </td>
    </tr>
  );
}

function Invitations({ slug, myRole }: { slug: string; myRole: WsRole }) {
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<WsRole>("member");
  const [errors, setErrors] = useState<Errors>({});
  const [created, setCreated] = useState<Invitation | null>(null);
  const list = useQuery({
    queryKey: ["invitations", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/invitations", { params: { path: { slug }, query: { per_page: 500 } } })),
  });
  const invite = useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/workspaces/{slug}/invitations", { params: { path: { slug } }, body: { email, role } })),
    onSuccess: (inv) => {
      setCreated(inv);
      setEmail("");
      void qc.invalidateQueries({ queryKey: ["invitations", slug] });
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const revoke = useMutation({
    mutationFn: (id: string) =>
      unwrap(client.DELETE("/api/v1/workspaces/{slug}/invitations/{invitation_id}", { params: { path: { slug, invitation_id: id } } })),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["invitations", slug] }),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = check({ email: [email, rules.email] });
    setErrors(errs);
    setCreated(null);
    if (!Object.keys(errs).length) invite.mutate();
  };
  const pending = list.data?.items.filter((i) => !i.accepted_at) ?? [];
  return (
    <section className="section" aria-labelledby="inv-title">
      <h2 id="inv-title">Invitations</h2>
      <form className="inline-form" onSubmit={submit} noValidate>
        <Field label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as WsRole)} error={errors.role}>
          {ROLES.filter((r) => RANK[r] <= RANK[myRole]).map((r) => (
            <option key={r} value={r}>
              {LABEL[r]}
            </option>
          ))}
        </SelectField>
        <button type="submit" className="primary" disabled={invite.isPending}>
          {invite.isPending ? "Inviting…" : "Invite"}
        </button>
      </form>
      {invite.isError && !Object.keys(fieldsOf(invite.error)).length ? <ErrorNote error={invite.error} /> : null}
      {created?.token ? (
        <div className="notice" role="status">
          <p>
            Invitation created for <strong>{created.email}</strong>. Send them this link (it works once, for 7 days):
          </p>
          <Secret label="Invitation link" value={`${location.origin}/invite#token=${created.token}`} />
        </div>
      ) : null}
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error ?? revoke.error} />
      {list.data && pending.length === 0 ? <Empty title="No pending invitations" /> : null}
      {pending.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Pending invitations">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col" className="hide-narrow">
                  Expires
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {pending.map((i) => (
                <tr key={i.id}>
                  <td>{i.email}</td>
                  <td>{LABEL[i.role]}</td>
                  <td className="hide-narrow">{formatDate(i.expires_at)}</td>
                  <td className="actions">
                    <button type="button" className="danger" onClick={() => revoke.mutate(i.id)} disabled={revoke.isPending} aria-label={`Revoke invitation for ${i.email}`}>
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
