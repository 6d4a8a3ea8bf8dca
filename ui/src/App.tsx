import { useEffect, useState, useSyncExternalStore } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type User } from "./api/client";
import { session } from "./api/session";
import { Spinner, ErrorNote } from "./components";
import { Setup, SignIn, Register, OneTime, AcceptInvite } from "./pages/auth";
import { Shell, WorkspaceList, Home } from "./pages/workspaces";
import { Projects } from "./pages/projects";
import { Members } from "./pages/members";
import { PlanPage } from "./pages/plan";
import { AnalyticsPage } from "./pages/analytics";
import { DashboardsPage } from "./pages/dashboards";
import { MetricsPage } from "./pages/metrics";

import { Departments } from "./pages/org";
import { StaffPage } from "./pages/staff";
import { ProjectMembers } from "./pages/team";
import { IssueDetail, IssueList, TimeReport } from "./pages/issues";
import { Cycles, Modules, ViewIssues, Views } from "./pages/planning";
import { WorkspaceHome } from "./pages/home";
import { Account } from "./pages/account";
import { SyncPage } from "./pages/sync";
import { NotFound } from "./pages/notfound";

export function useUser(): User | null {
  return useSyncExternalStore(
    (cb) => session.subscribe(cb),
    () => session.user,
  );
}

export function useStatus() {
  return useQuery({
    queryKey: ["status"],
    queryFn: () => unwrap(client.GET("/api/v1/instance/status")),
    staleTime: 60_000,
  });
}

/** Restores the session from the stored refresh token before anything is shown. */
function useRestore(): boolean {
  const [ready, setReady] = useState(() => session.user !== null || !session.hasRefreshToken());
  useEffect(() => {
    if (ready) return;
    void session.refresh().finally(() => setReady(true));
  }, [ready]);
  return ready;
}

export function App() {
  const ready = useRestore();
  const user = useUser();
  const qc = useQueryClient();
  // A session that ends (sign-out, revoked elsewhere) forgets every cached answer.
  useEffect(() => {
    if (!user) qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "status" });
  }, [user, qc]);
  if (!ready) return <Spinner label="Opening Keel" />;
  return (
    <Routes>
      <Route path="/setup" element={<Setup />} />
      <Route path="/login" element={<SignIn />} />
      <Route path="/register" element={<Register />} />
      <Route path="/auth/one-time" element={<OneTime />} />
      <Route path="/invite" element={<AcceptInvite />} />
      <Route element={<RequireUser />}>
        <Route path="/" element={<Home />} />
        <Route path="/workspaces" element={<WorkspaceList />} />
        <Route path="/account" element={<Account />} />
        <Route path="/sync" element={<SyncPage />} />
        <Route path="/w/:slug" element={<Projects />} />
        <Route path="/w/:slug/members" element={<Members />} />
        <Route path="/w/:slug/departments" element={<Departments />} />
        <Route path="/w/:slug/staff" element={<StaffPage />} />
        <Route path="/w/:slug/plan" element={<PlanPage />} />
        <Route path="/w/:slug/analytics" element={<AnalyticsPage />} />
        <Route path="/w/:slug/dashboards" element={<DashboardsPage />} />
        <Route path="/w/:slug/dashboards/:id" element={<DashboardsPage />} />
        <Route path="/w/:slug/metrics" element={<MetricsPage />} />
        <Route path="/w/:slug/p/:pid/analytics" element={<AnalyticsPage />} />
        <Route path="/w/:slug/p/:pid" element={<IssueList />} />
        <Route path="/w/:slug/p/:pid/issues/:iid" element={<IssueDetail />} />
        <Route path="/w/:slug/p/:pid/time" element={<TimeReport />} />
        <Route path="/w/:slug/p/:pid/members" element={<ProjectMembers />} />
        <Route path="/w/:slug/p/:pid/cycles" element={<Cycles />} />
        <Route path="/w/:slug/p/:pid/modules" element={<Modules />} />
        <Route path="/w/:slug/p/:pid/views" element={<Views />} />
        <Route path="/w/:slug/p/:pid/views/:vid" element={<ViewIssues />} />
        <Route path="/w/:slug/home" element={<WorkspaceHome />} />
      </Route>
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

function RequireUser() {
  const user = useUser();
  const status = useStatus();
  const loc = useLocation();
  if (user) return <Shell />;
  if (status.isPending) return <Spinner />;
  if (status.isError) return <ErrorNote error={status.error} retry={() => void status.refetch()} />;
  const next = encodeURIComponent(loc.pathname + loc.search + loc.hash);
  return <Navigate to={status.data.initialized ? `/login?next=${next}` : "/setup"} replace />;
}
