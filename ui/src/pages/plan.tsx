import { useState } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";
import { ErrorNote, Spinner, formatDate, useTitle } from "../components";
import { useWorkspace } from "./workspaces";

type PlanView = Schemas["WorkspacePlanView"];
type FeatureState = Schemas["FeatureState"];

const STATE: Record<PlanView["state"], { label: string; tone: string }> = {
  none: { label: "Free plan", tone: "" },
  active: { label: "Licence active", tone: "ok" },
  grace: { label: "Premium — expired, in grace", tone: "warn" },
  expired: { label: "Licence expired", tone: "warn" },
  invalid: { label: "Licence not valid here", tone: "warn" },
};

/** A workspace's plan: what it has, what premium adds (locked until a licence unlocks it),
 * seats, and for owners the licence upload. */
export function PlanPage() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Plan` : "Plan");
  const isOwner = ws.data?.role === "owner";
  const plan = useQuery({
    queryKey: ["plan", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/plan", { params: { path: { slug } } })),
  });
  if (ws.isError) return <ErrorNote error={ws.error} retry={() => void ws.refetch()} />;
  const p = plan.data;
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Plan</h1>
        </div>
      </header>
      {plan.isPending ? <Spinner /> : null}
      <ErrorNote error={plan.error} retry={() => void plan.refetch()} />
      {p ? (
        <>
          <section className="card plan-card" aria-label="Current plan">
            <div className="plan-head">
              <span className={`plan-badge ${p.plan}`}>{p.plan === "premium" ? "Premium" : "Free"}</span>
              <span className={`badge ${STATE[p.state].tone}`}>{STATE[p.state].label}</span>
            </div>
            <p className="muted" role="status">
              {p.message}
            </p>
            <p>
              Licences name this workspace <code data-testid="display-id">{p.workspace}</code>.
            </p>
            <Seats used={p.seats_used} allowed={p.seats_allowed ?? null} />
            {p.licence ? (
              <dl className="facts">
                <dt>Licence</dt>
                <dd>{p.licence.licence_id}</dd>
                <dt>Customer</dt>
                <dd>{p.licence.customer}</dd>
                <dt>Valid</dt>
                <dd>
                  {p.licence.issued} – {p.licence.expires} (grace until {p.licence.grace_until})
                </dd>
                <dt>Installed</dt>
                <dd>{formatDate(p.licence.installed_at)}</dd>
              </dl>
            ) : null}
          </section>
          <section className="card" aria-label="Features">
            <h2 className="card-title">What each plan has</h2>
            <ul className="features">
              {p.features.map((f) => (
                <FeatureRow key={f.key} f={f} />
              ))}
            </ul>
          </section>
          {isOwner ? <LicenceUpload slug={slug} hasLicence={!!p.licence || p.state === "invalid"} /> : null}
          {!isOwner && p.plan === "free" ? (
            <p className="muted">A workspace owner unlocks premium by installing a licence file here.</p>
          ) : null}
        </>
      ) : null}
    </>
  );
}

function Seats({ used, allowed }: { used: number; allowed: number | null }) {
  if (allowed === null) {
    return (
      <p>
        <strong>{used}</strong> members · no limit on this plan
      </p>
    );
  }
  return (
    <p className="progress" aria-label="Seats">
      <progress max={allowed} value={Math.min(used, allowed)} />
      <span>
        <strong>{used}</strong> of {allowed} seats
      </span>
    </p>
  );
}

function FeatureRow({ f }: { f: FeatureState }) {
  const locked = !f.enabled;
  return (
    <li className={locked ? "feature locked" : "feature"} data-feature={f.key} data-enabled={f.enabled}>
      <span className="feature-icon" aria-label={f.enabled ? "On" : "Locked"} role="img">
        {f.enabled ? (
          "✓"
        ) : (
          <svg width="12" height="14" viewBox="0 0 12 14" aria-hidden="true">
            <rect x="1" y="6" width="10" height="7.5" rx="1.5" fill="currentColor" />
            <path d="M3 6V4a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
          </svg>
        )}
      </span>
      <span className="feature-name">{f.name}</span>
      <span className={`plan-badge small ${f.plan}`}>{f.plan === "premium" ? "Premium" : "Free"}</span>
      <span className="muted feature-reason">{f.reason}</span>
    </li>
  );
}

function LicenceUpload({ slug, hasLicence }: { slug: string; hasLicence: boolean }) {
  const qc = useQueryClient();
  const [text, setText] = useState("");
  const done = () => {
    setText("");
    void qc.invalidateQueries({ queryKey: ["plan", slug] });
  };
  const install = useMutation({
    mutationFn: (licence: string) =>
      unwrap(client.PUT("/api/v1/workspaces/{slug}/licence", { params: { path: { slug } }, body: { licence } })),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE("/api/v1/workspaces/{slug}/licence", { params: { path: { slug } } })),
    onSuccess: done,
  });
  const readFile = (file: File | undefined) => {
    if (file) void file.text().then(setText);
  };
  return (
    <section className="card" aria-label="Licence">
      <h2 className="card-title">Install a licence</h2>
      <p className="muted">
        Paste the licence file you received, or choose it. It is checked here, offline; nothing is sent anywhere.
      </p>
      <label className="field">
        <span>Licence file</span>
        <input type="file" accept=".licence,.txt,text/plain" onChange={(e) => readFile(e.target.files?.[0])} />
      </label>
      <label className="field">
        <span>Licence text</span>
        <textarea rows={6} value={text} onChange={(e) => setText(e.target.value)} placeholder="-----BEGIN KEEL LICENCE-----" />
      </label>
      <ErrorNote error={install.error ?? remove.error} />
      <div className="row">
        <button type="button" className="primary" disabled={!text.trim() || install.isPending} onClick={() => install.mutate(text)}>
          Install licence
        </button>
        {hasLicence ? (
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() => {
              if (window.confirm("Remove the licence? The workspace goes back to the free plan; no data changes.")) remove.mutate();
            }}
          >
            Remove licence
          </button>
        ) : null}
      </div>
    </section>
  );
}
