import { useMemo, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, unwrap, type Schemas } from "../api/client";
import { fieldsOf } from "../api/errors";
import { Empty, ErrorNote, Field, Modal, Secret, SelectField, Spinner, formatDate, useTitle } from "../components";
import { staffRules, type Errors } from "../validate";
import { useWorkspace } from "./workspaces";

type Staff = Schemas["StaffView"];
type Report = Schemas["ImportReport"];
type Node = Schemas["DepartmentNode"];

const STATUSES = ["active", "probation", "resigned", "suspended", "transferred"] as const;
const SORTS: [string, string][] = [
  ["staff_id", "Staff ID"],
  ["name", "Name"],
  ["department", "Department"],
  ["-date_of_joining", "Newest first"],
  ["date_of_joining", "Longest serving"],
  ["employment_status", "Status"],
];
const PER_PAGE = 25;

/** Today in the browser's time zone, as YYYY-MM-DD. */
function localDay(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}
/** Statuses of people who work here now: they can be transferred. */
const CURRENT = new Set(["active", "probation", "suspended"]);

function flatten(nodes: Node[], out: Node[] = []): Node[] {
  for (const n of nodes) {
    out.push(n);
    flatten(n.children, out);
  }
  return out;
}

function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function StaffPage() {
  const { slug = "" } = useParams();
  const ws = useWorkspace(slug);
  useTitle(ws.data ? `${ws.data.name} · Staff` : "Staff");
  const isAdmin = ws.data ? ws.data.role === "owner" || ws.data.role === "admin" : false;
  const [department, setDepartment] = useState("");
  const [subtree, setSubtree] = useState(true);
  const [status, setStatus] = useState("");
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState("staff_id");
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<Staff | "new" | null>(null);
  const [moving, setMoving] = useState<Staff | null>(null);
  const [leaving, setLeaving] = useState<Staff | null>(null);
  const [importing, setImporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const tree = useQuery({
    queryKey: ["departments", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/departments/tree", { params: { path: { slug } } })),
  });
  const departments = useMemo(() => flatten(tree.data ?? []), [tree.data]);
  const query = {
    department: department || undefined,
    subtree: department && department !== "none" && subtree ? true : undefined,
    employment_status: status || undefined,
    search: search.trim() || undefined,
    sort,
  };
  const list = useQuery({
    queryKey: ["staff", slug, query, page],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/staff", { params: { path: { slug }, query: { ...query, page, per_page: PER_PAGE } } })),
    placeholderData: keepPreviousData,
  });
  const stats = useQuery({
    queryKey: ["staff-stats", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/staff/stats", { params: { path: { slug } } })),
  });
  const download = async () => {
    setExportError(null);
    try {
      const blob = await unwrap(client.GET("/api/v1/workspaces/{slug}/staff/export", { params: { path: { slug }, query }, parseAs: "blob" }));
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `staff-${slug}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      setExportError(e);
    }
  };
  const filter = (f: () => void) => {
    f();
    setPage(1);
  };

  if (ws.isError) return <ErrorNote error={ws.error} retry={() => void ws.refetch()} />;
  return (
    <>
      <header className="page-head">
        <div>
          <p className="eyebrow">{ws.data?.name ?? "…"}</p>
          <h1>Staff</h1>
        </div>
        {isAdmin ? (
          <div className="row">
            <button type="button" onClick={() => void download()}>
              Export CSV
            </button>
            <button type="button" onClick={() => setImporting(true)}>
              Import
            </button>
            <button type="button" className="primary" onClick={() => setEditing("new")}>
              Add staff record
            </button>
          </div>
        ) : null}
      </header>
      <ErrorNote error={exportError} />
      {stats.data ? <StaffDashboard stats={stats.data} /> : null}
      <TimeByDepartment slug={slug} />
      <div className="filters">
        <Field label="Search" type="search" placeholder="Name, email, staff ID, position" value={search} onChange={(e) => filter(() => setSearch(e.target.value))} />
        <SelectField label="Department" value={department} onChange={(e) => filter(() => setDepartment(e.target.value))}>
          <option value="">All departments</option>
          <option value="none">No department</option>
          {departments.map((d) => (
            <option key={d.id} value={d.id}>
              {"\u2003".repeat(d.level - 1)}
              {d.name}
            </option>
          ))}
        </SelectField>
        {department && department !== "none" ? (
          <label className="check">
            <input type="checkbox" checked={subtree} onChange={(e) => filter(() => setSubtree(e.target.checked))} />
            With sub-departments
          </label>
        ) : null}
        <SelectField label="Status" value={status} onChange={(e) => filter(() => setStatus(e.target.value))}>
          <option value="">Any status</option>
          <option value="active,probation">Working (active, probation)</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
        <SelectField label="Sort" value={sort} onChange={(e) => filter(() => setSort(e.target.value))}>
          {SORTS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </SelectField>
      </div>
      {list.isPending ? <Spinner /> : null}
      <ErrorNote error={list.error} retry={() => void list.refetch()} />
      {list.data && list.data.total === 0 ? (
        <Empty title="No staff records here">{isAdmin ? "Add people one by one, or import a spreadsheet." : null}</Empty>
      ) : null}
      {list.data && list.data.items.length ? (
        <>
          <div className="table-wrap">
            <table aria-label="Staff">
              <thead>
                <tr>
                  <th>Staff ID</th>
                  <th>Name</th>
                  <th>Department</th>
                  <th>Position</th>
                  <th>Status</th>
                  <th>Joined</th>
                  {isAdmin ? <th>Phone</th> : null}
                  {isAdmin ? <th aria-label="Actions" /> : null}
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((s) => (
                  <tr key={s.id} aria-label={s.display_name || s.email}>
                    <td>
                      <code>{s.staff_id}</code>
                    </td>
                    <td>
                      <span className="strong">{s.display_name}</span>
                      {s.is_department_manager ? <span className="badge">manager</span> : null}
                      <div className="muted">{s.email}</div>
                    </td>
                    <td>{s.department_name ?? <span className="muted">—</span>}</td>
                    <td>{s.position || <span className="muted">—</span>}</td>
                    <td>
                      <StatusBadge status={s.employment_status} />
                    </td>
                    <td>{formatDate(s.date_of_joining)}</td>
                    {isAdmin ? <td className="nowrap">{s.phone || <span className="muted">—</span>}</td> : null}
                    {isAdmin ? (
                      <td className="actions">
                        <button type="button" aria-label={`Edit ${s.display_name}`} onClick={() => setEditing(s)}>
                          Edit
                        </button>
                        {CURRENT.has(s.employment_status) ? (
                          <button type="button" aria-label={`Transfer ${s.display_name}`} onClick={() => setMoving(s)}>
                            Transfer
                          </button>
                        ) : null}
                        {s.employment_status !== "resigned" ? (
                          <button type="button" className="danger" aria-label={`Deactivate ${s.display_name}`} onClick={() => setLeaving(s)}>
                            Deactivate
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <span className="muted">
              {list.data.total} record{list.data.total === 1 ? "" : "s"} · page {list.data.page} of {Math.max(1, list.data.total_pages)}
            </span>
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
              Previous
            </button>
            <button type="button" disabled={page >= list.data.total_pages} onClick={() => setPage(page + 1)}>
              Next
            </button>
          </div>
        </>
      ) : null}
      <Modal title={editing === "new" ? "New staff record" : "Edit staff record"} open={editing !== null} onClose={() => setEditing(null)}>
        {editing ? <StaffForm slug={slug} staff={editing === "new" ? null : editing} departments={departments} onDone={() => setEditing(null)} /> : null}
      </Modal>
      <Modal title="Transfer" open={moving !== null} onClose={() => setMoving(null)}>
        {moving ? <TransferForm slug={slug} staff={moving} departments={departments} onDone={() => setMoving(null)} /> : null}
      </Modal>
      <Modal title="Deactivate" open={leaving !== null} onClose={() => setLeaving(null)}>
        {leaving ? <DeactivateForm slug={slug} staff={leaving} onDone={() => setLeaving(null)} /> : null}
      </Modal>
      <Modal title="Import staff" open={importing} onClose={() => setImporting(false)}>
        {importing ? <ImportForm slug={slug} onDone={() => setImporting(false)} /> : null}
      </Modal>
    </>
  );
}

/** Headcount at a glance: the active/inactive split as one bar, each status, and each
 * department's people (its whole subtree) as bars against the largest. */
function StaffDashboard({ stats }: { stats: Schemas["StaffStats"] }) {
  const pct = Math.round(stats.active_ratio * 100);
  const top = stats.by_department.filter((d) => d.level === 1 || d.subtree > 0);
  const max = Math.max(1, ...top.map((d) => d.subtree));
  return (
    <section className="staff-dash" aria-label="Staff overview">
      <div className="card">
        <p className="eyebrow">Headcount</p>
        <p className="big-number">{stats.total}</p>
        <div className="ratio-bar" role="img" aria-label={`${stats.active} active, ${stats.inactive} inactive (${pct}% active)`}>
          <span className="on" style={{ width: `${pct}%` }} />
        </div>
        <p className="muted">
          {stats.active} active · {stats.inactive} inactive · {pct}% active
        </p>
        <ul className="plain status-counts">
          {stats.by_status.map((s) => (
            <li key={s.status}>
              <StatusBadge status={s.status} /> {s.count}
            </li>
          ))}
        </ul>
      </div>
      <div className="card">
        <p className="eyebrow">People per department (with sub-departments)</p>
        {top.length === 0 ? <p className="muted">No departments yet.</p> : null}
        <ul className="plain dept-bars" aria-label="People per department">
          {top.map((d) => (
            <li key={d.department_id} style={{ paddingLeft: `${(d.level - 1) * 0.9}rem` }} aria-label={`${d.name}: ${d.subtree}`}>
              <span className="dept-bar-name">{d.name}</span>
              <span className="dept-bar" title={`${d.subtree_active} active of ${d.subtree}`}>
                <span className="all" style={{ width: `${(d.subtree / max) * 100}%` }}>
                  <span className="active" style={{ width: `${d.subtree ? (d.subtree_active / d.subtree) * 100 : 0}%` }} />
                </span>
              </span>
              <span className="muted">{d.subtree}</span>
            </li>
          ))}
        </ul>
        {stats.unassigned ? <p className="muted">{stats.unassigned} in no department</p> : null}
      </div>
    </section>
  );
}

function StaffForm({ slug, staff, departments, onDone }: { slug: string; staff: Staff | null; departments: Node[]; onDone: () => void }) {
  const [userId, setUserId] = useState("");
  const [staffId, setStaffId] = useState(staff?.staff_id ?? "");
  const [departmentId, setDepartmentId] = useState(staff?.department_id ?? "");
  const [position, setPosition] = useState(staff?.position ?? "");
  const [jobGrade, setJobGrade] = useState(staff?.job_grade ?? "");
  const [phone, setPhone] = useState(staff?.phone ?? "");
  const [joined, setJoined] = useState(staff?.date_of_joining ?? "");
  const [status, setStatus] = useState(staff?.employment_status ?? "active");
  const [manager, setManager] = useState(staff?.is_department_manager ?? false);
  const [notes, setNotes] = useState(staff?.notes ?? "");
  const [errors, setErrors] = useState<Errors>({});
  const qc = useQueryClient();
  const members = useQuery({
    queryKey: ["members", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/members", { params: { path: { slug }, query: { per_page: 500 } } })),
    enabled: !staff,
  });
  // Who has a record already (a person has one per workspace).
  const records = useQuery({
    queryKey: ["staff", slug, "all-ids"],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/staff", { params: { path: { slug }, query: { per_page: 500 } } })),
    enabled: !staff,
  });
  const haveRecords = new Set((records.data?.items ?? []).map((r) => r.user_id));
  const body = {
    staff_id: staffId,
    department_id: departmentId || null,
    position,
    job_grade: jobGrade,
    phone,
    date_of_joining: joined || null,
    employment_status: status,
    is_department_manager: manager,
    notes,
  };
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        staff
          ? client.PATCH("/api/v1/workspaces/{slug}/staff/{user_id}", { params: { path: { slug, user_id: staff.user_id } }, body })
          : client.POST("/api/v1/workspaces/{slug}/staff", { params: { path: { slug } }, body: { ...body, user_id: userId } }),
      ),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["staff", slug] });
      void qc.invalidateQueries({ queryKey: ["staff-stats", slug] });
      void qc.invalidateQueries({ queryKey: ["departments", slug] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs = staffRules({ staff_id: staffId, phone, position, job_grade: jobGrade });
    if (!staff && !userId) errs.user_id = "Choose a member";
    setErrors(errs);
    if (!Object.keys(errs).length) save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      {staff ? (
        <p>
          <strong>{staff.display_name}</strong> <span className="muted">{staff.email}</span>
        </p>
      ) : (
        <SelectField label="Member" value={userId} onChange={(e) => setUserId(e.target.value)} error={errors.user_id}>
          <option value="">Choose a member</option>
          {(members.data?.items ?? [])
            .filter((m) => !haveRecords.has(m.user_id))
            .map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.display_name} {m.email ? `(${m.email})` : ""}
              </option>
            ))}
        </SelectField>
      )}
      <Field label="Staff ID" value={staffId} autoFocus onChange={(e) => setStaffId(e.target.value)} error={errors.staff_id} hint="Up to 8 letters, digits, - or _; unique in the workspace" />
      <SelectField label="Department" value={departmentId} onChange={(e) => setDepartmentId(e.target.value)} error={errors.department_id}>
        <option value="">No department</option>
        {departments.map((d) => (
          <option key={d.id} value={d.id}>
            {"\u2003".repeat(d.level - 1)}
            {d.name}
          </option>
        ))}
      </SelectField>
      <Field label="Position" value={position} onChange={(e) => setPosition(e.target.value)} error={errors.position} />
      <div className="row">
        <Field label="Job grade" value={jobGrade} onChange={(e) => setJobGrade(e.target.value)} error={errors.job_grade} hint="Admins only" />
        <Field label="Phone" value={phone} onChange={(e) => setPhone(e.target.value)} error={errors.phone} hint="Admins only" />
      </div>
      <div className="row">
        <Field label="Date of joining" type="date" value={joined} onChange={(e) => setJoined(e.target.value)} error={errors.date_of_joining} />
        <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value)} error={errors.employment_status}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
      </div>
      <label className="check">
        <input type="checkbox" checked={manager} onChange={(e) => setManager(e.target.checked)} />
        Department manager
      </label>
      <div className="field">
        <label htmlFor="staff-notes">Notes (admins only)</label>
        <textarea id="staff-notes" rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </div>
      {save.isError && !Object.keys(fieldsOf(save.error)).length ? <ErrorNote error={save.error} /> : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : staff ? "Save" : "Create record"}
        </button>
      </div>
    </form>
  );
}

function TransferForm({ slug, staff, departments, onDone }: { slug: string; staff: Staff; departments: Node[]; onDone: () => void }) {
  const [to, setTo] = useState("");
  const [date, setDate] = useState(localDay());
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const qc = useQueryClient();
  const history = useQuery({
    queryKey: ["transfers", slug, staff.user_id],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/staff/{user_id}/transfers", { params: { path: { slug, user_id: staff.user_id } } })),
  });
  const move = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/staff/{user_id}/transfer", {
          params: { path: { slug, user_id: staff.user_id } },
          body: { department_id: to === "none" ? null : to, effective_date: date, reason },
        }),
      ),
    onSuccess: () => {
      for (const k of ["staff", "staff-stats", "departments", "transfers"]) void qc.invalidateQueries({ queryKey: [k, slug] });
      onDone();
    },
    onError: (e) => setErrors(fieldsOf(e)),
  });
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const errs: Errors = {};
    if (!to) errs.department_id = "Choose where they go";
    if ((to === "none" ? null : to) === (staff.department_id ?? null)) errs.department_id = "They are already there";
    if (reason.length > 500) errs.reason = "At most 500 characters";
    setErrors(errs);
    if (!Object.keys(errs).length) move.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <p>
        Move <strong>{staff.display_name}</strong> from {staff.department_name ?? "no department"} to:
      </p>
      <SelectField label="New department" value={to} onChange={(e) => setTo(e.target.value)} error={errors.department_id}>
        <option value="">Choose…</option>
        <option value="none">No department</option>
        {departments.map((d) => (
          <option key={d.id} value={d.id} disabled={d.id === staff.department_id}>
            {"\u2003".repeat(d.level - 1)}
            {d.name}
          </option>
        ))}
      </SelectField>
      <Field label="Effective date" type="date" value={date} onChange={(e) => setDate(e.target.value)} error={errors.effective_date} />
      <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} error={errors.reason} />
      {move.isError && !Object.keys(fieldsOf(move.error)).length ? <ErrorNote error={move.error} /> : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={move.isPending}>
          Transfer
        </button>
      </div>
      <h3>History</h3>
      {history.data && history.data.length === 0 ? <p className="muted">No transfers yet.</p> : null}
      <ol className="activity" aria-label="Transfer history">
        {(history.data ?? []).map((t) => (
          <li key={t.id}>
            <span className="strong">{t.effective_date}</span> {t.from_department_name ?? "No department"} → {t.to_department_name ?? "No department"}
            {t.reason ? <span className="muted"> · {t.reason}</span> : null}
            {t.created_by_name ? <span className="muted"> · by {t.created_by_name}</span> : null}
          </li>
        ))}
      </ol>
    </form>
  );
}

function DeactivateForm({ slug, staff, onDone }: { slug: string; staff: Staff; onDone: () => void }) {
  const [date, setDate] = useState(localDay());
  const qc = useQueryClient();
  const leave = useMutation({
    mutationFn: () =>
      unwrap(
        client.POST("/api/v1/workspaces/{slug}/staff/{user_id}/deactivate", {
          params: { path: { slug, user_id: staff.user_id } },
          body: { date_of_leaving: date },
        }),
      ),
    onSuccess: () => {
      for (const k of ["staff", "staff-stats", "departments"]) void qc.invalidateQueries({ queryKey: [k, slug] });
      onDone();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        leave.mutate();
      }}
    >
      <p>
        Mark <strong>{staff.display_name}</strong> as resigned? Their record, their logged time and their history stay.
      </p>
      <Field label="Last day" type="date" value={date} onChange={(e) => setDate(e.target.value)} error={fieldsOf(leave.error).date_of_leaving} />
      {leave.isError && !Object.keys(fieldsOf(leave.error)).length ? <ErrorNote error={leave.error} /> : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="danger" disabled={leave.isPending}>
          Deactivate
        </button>
      </div>
    </form>
  );
}

/** Choose a file, see what it would do and every row's problems, then import it: all or
 * nothing. The bar follows the steps: read, checked, written. */
function ImportForm({ slug, onDone }: { slug: string; onDone: () => void }) {
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [done, setDone] = useState<Report | null>(null);
  const [step, setStep] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [invite, setInvite] = useState(false);
  const qc = useQueryClient();
  const send = (text: string, name: string, dryRun: boolean) =>
    unwrap(
      client.POST("/api/v1/workspaces/{slug}/staff/bulk-import", {
        params: { path: { slug }, query: { dry_run: dryRun, invite } },
        body: text,
        bodySerializer: (b: string) => b,
        headers: { "content-type": name.toLowerCase().endsWith(".json") ? "application/json" : "text/csv" },
      }),
    );
  const choose = async (f: File | undefined) => {
    setReport(null);
    setDone(null);
    setError(null);
    setFile(null);
    if (!f) return;
    setStep(1);
    try {
      const text = await f.text();
      setFile({ name: f.name, text });
      setReport(await send(text, f.name, true));
      setStep(2);
    } catch (e) {
      setError(e);
      setStep(0);
    }
  };
  const run = async () => {
    if (!file) return;
    setStep(3);
    setError(null);
    try {
      setDone(await send(file.text, file.name, false));
      setStep(4);
      for (const k of ["staff", "staff-stats", "departments"]) void qc.invalidateQueries({ queryKey: [k, slug] });
    } catch (e) {
      setError(e);
      setStep(2);
      // The workspace changed since the preview: check again, so every row's problem shows.
      if (e instanceof ApiError && e.code === "import_invalid") setReport(await send(file.text, file.name, true).catch(() => null));
    }
  };
  const labels = ["", "Reading and checking the file…", "Checked", "Importing…", "Imported"];
  const errorsByRow = new Map<number, Schemas["RowProblem"][]>();
  for (const e of report?.errors ?? []) errorsByRow.set(e.row, [...(errorsByRow.get(e.row) ?? []), e]);
  return (
    <div className="stack">
      <div className="field">
        <label htmlFor="staff-file">CSV or JSON file</label>
        <input id="staff-file" type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => void choose(e.target.files?.[0])} />
        <p className="hint">Columns: staff_id, email (required), department (its code), position, job_grade, phone, date_of_joining, date_of_leaving, employment_status, is_department_manager, notes.</p>
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={invite}
          onChange={(e) => {
            setInvite(e.target.checked);
            setReport(null);
            setStep(0);
            setFile(null);
          }}
        />
        Invite people who are not members yet (their records wait until they accept)
      </label>
      {step ? (
        <div className="progress" aria-label="Import progress">
          <progress max={4} value={step} /> <span>{labels[step]}</span>
        </div>
      ) : null}
      <ErrorNote error={error} />
      {report && !done ? (
        report.errors.length ? (
          <div role="alert">
            <p className="field-error">
              {errorsByRow.size} of {report.rows} rows have problems. Nothing will be imported until the file is fixed.
            </p>
            <div className="table-wrap">
              <table aria-label="Row problems">
                <thead>
                  <tr>
                    <th>Row</th>
                    <th>Column</th>
                    <th>Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {report.errors.map((e, i) => (
                    <tr key={i}>
                      <td>{e.row}</td>
                      <td>
                        <code>{e.column}</code>
                      </td>
                      <td>{e.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        ) : (
          <>
            <p>
              {report.rows} rows: <strong>{report.created}</strong> new, <strong>{report.updated}</strong> updated, {report.unchanged} unchanged.
            </p>
            <div className="table-wrap">
              <table aria-label="Import preview">
                <thead>
                  <tr>
                    <th>Row</th>
                    <th>Staff ID</th>
                    <th>Email</th>
                    <th>Department</th>
                    <th>Action</th>
                  </tr>
                </thead>
                <tbody>
                  {report.preview.slice(0, 50).map((p) => (
                    <tr key={p.row}>
                      <td>{p.row}</td>
                      <td>
                        <code>{p.staff_id}</code>
                      </td>
                      <td>{p.email}</td>
                      <td>{p.department ?? "—"}</td>
                      <td>
                        <span className="badge">{p.action}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )
      ) : null}
      {done ? (
        <p role="status">
          Imported {done.rows} rows: {done.created} new, {done.updated} updated, {done.unchanged} unchanged
          {done.invited.length ? `, ${done.invited.length} invited` : ""}.
        </p>
      ) : null}
      {done && done.invited.length ? (
        <div className="stack" aria-label="Invitations">
          <p>Send each person their invitation link (shown only now):</p>
          {done.invited.map((i) => (
            <div key={i.row}>
              <span className="strong">{i.email}</span>
              <Secret label={`Invitation link for ${i.email}`} value={`${location.origin}/invite#token=${i.token}`} />
            </div>
          ))}
        </div>
      ) : null}
      <div className="form-actions">
        <button type="button" onClick={onDone}>
          {done ? "Done" : "Cancel"}
        </button>
        {!done ? (
          <button type="button" className="primary" disabled={!report || report.errors.length > 0 || step === 3} onClick={() => void run()}>
            Import {report && !report.errors.length ? `${report.rows} rows` : ""}
          </button>
        ) : null}
      </div>
    </div>
  );
}

function hours(minutes: number): string {
  return `${(minutes / 60).toFixed(minutes % 60 ? 1 : 0)} h`;
}

/** The last 30 days' time by department: each minute where its person worked that day. */
function TimeByDepartment({ slug }: { slug: string }) {
  const summary = useQuery({
    queryKey: ["time-by-department", slug],
    queryFn: () => unwrap(client.GET("/api/v1/workspaces/{slug}/time-tracking/summary", { params: { path: { slug }, query: { per_page: 1 } } })),
  });
  const rows = summary.data?.by_department ?? [];
  if (!summary.data || rows.length === 0) return null;
  const max = Math.max(1, ...rows.map((d) => d.subtree_minutes));
  return (
    <section className="card" aria-label="Time by department">
      <p className="eyebrow">
        Time by department, {summary.data.from} to {summary.data.to} ({hours(summary.data.total_minutes)})
      </p>
      <ul className="plain dept-bars" aria-label="Hours per department">
        {rows.map((d) => (
          <li key={d.department_id ?? "none"} style={{ paddingLeft: `${(d.level - 1) * 0.9}rem` }} aria-label={`${d.name}: ${hours(d.subtree_minutes)}`}>
            <span className="dept-bar-name">{d.name}</span>
            <span className="dept-bar" title={`${hours(d.minutes)} in the department itself`}>
              <span className="all" style={{ width: `${(d.subtree_minutes / max) * 100}%` }}>
                <span className="active" style={{ width: `${d.subtree_minutes ? (d.minutes / d.subtree_minutes) * 100 : 0}%` }} />
              </span>
            </span>
            <span className="muted">{hours(d.subtree_minutes)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
