import { expect, test, type Locator, type Page } from "@playwright/test";
import { createPrivateKey, sign as edSign } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { startKeel } from "./keel";

const SHOTS = "../test-artifacts/ui";
mkdirSync(SHOTS, { recursive: true });

const OWNER = { name: "Olivia Owner", email: "olivia@example.com", password: "correct horse battery" };

/**
 * Every console error, uncaught exception and server error answer fails the test. Chromium
 * also logs each 4xx answer as "Failed to load resource"; the 4xx this test provokes on
 * purpose (a wrong password, a duplicate invitation) are asserted on the page instead.
 */
function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Signs the owner in from the sign-in page. */
async function signIn(page: Page, base: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.describe.configure({ mode: "serial" });

test("first run → sign in → workspace → project → invitation → API token → sign out", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);

  // First run: any address leads to setup.
  await page.goto(`${base}/w/anything`);
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Welcome to Keel" })).toBeVisible();
  // The form checks itself before sending.
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await expect(page.getByText("At least 8 characters").first()).toBeVisible();
  await shot(page, "01-setup");
  await page.getByLabel("Your name").fill(OWNER.name);
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
  await page.getByLabel("Repeat the password").fill("something else");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("The passwords differ")).toBeVisible();
  await page.getByLabel("Repeat the password").fill(OWNER.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/workspaces$/);
  await expect(page.getByText("No workspaces yet")).toBeVisible();

  // Sign out, then sign in again, by keyboard only.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await page.keyboard.type(OWNER.email); // the email field has focus
  await page.keyboard.press("Tab");
  await page.keyboard.type("wrong password");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alert")).toContainText("That email and password do not match an account.");
  await shot(page, "02-sign-in-error");
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByLabel("Password").press("Enter");
  await expect(page).toHaveURL(/\/workspaces$/);

  // A reload keeps the session (silent refresh from the stored refresh token).
  await page.reload();
  await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();

  // Create a workspace; its URL name follows the name.
  await page.getByRole("button", { name: "Create your first workspace" }).click();
  const dialog = page.getByRole("dialog", { name: "New workspace" });
  await dialog.getByLabel("Name", { exact: true }).fill("Acme Robotics");
  await expect(dialog.getByLabel("URL name")).toHaveValue("acme-robotics");
  await dialog.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(/\/w\/acme-robotics$/);
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
  await expect(page.getByText("No projects yet")).toBeVisible();
  await expect(page.getByLabel("Switch workspace")).toHaveValue("acme-robotics");

  // Create a project, then edit it.
  await page.getByRole("button", { name: "New project" }).click();
  const pd = page.getByRole("dialog", { name: "New project" });
  await pd.getByLabel("Name", { exact: true }).fill("Launch Pad");
  await expect(pd.getByLabel("Identifier")).toHaveValue("LP");
  await pd.getByLabel("Identifier").fill("l");
  await pd.getByRole("button", { name: "Create project" }).click();
  await expect(pd.getByText("2–12 upper-case letters or digits")).toBeVisible();
  await pd.getByLabel("Identifier").fill("LAUNCH");
  await pd.getByLabel("Description").fill("Everything for the spring launch");
  await pd.getByRole("button", { name: "Create project" }).click();
  const table = page.getByRole("table", { name: "Projects" });
  await expect(table.getByRole("row", { name: /Launch Pad/ })).toContainText("LAUNCH");
  await page.getByRole("button", { name: "Edit Launch Pad" }).click();
  const ed = page.getByRole("dialog", { name: "Edit project" });
  await ed.getByLabel("Name", { exact: true }).fill("Launch Pad 2027");
  await ed.getByRole("button", { name: "Save" }).click();
  await expect(table.getByRole("row", { name: /Launch Pad 2027/ })).toBeVisible();
  await shot(page, "03-projects");

  // Archive it: it leaves the active list and shows under Archived.
  await page.getByRole("button", { name: "Archive Launch Pad 2027" }).click();
  await expect(page.getByText("No projects yet")).toBeVisible();
  await page.getByRole("tab", { name: "Archived" }).click();
  await expect(page.getByRole("row", { name: /Launch Pad 2027/ })).toBeVisible();
  await page.getByRole("button", { name: "Unarchive Launch Pad 2027" }).click();
  await expect(page.getByText("No archived projects")).toBeVisible();

  // Invite a member.
  await page.getByRole("link", { name: "Members" }).click();
  await expect(page.getByRole("heading", { name: "Members" })).toBeVisible();
  await expect(page.getByRole("row", { name: /Olivia Owner/ })).toContainText("Owner");
  await page.getByLabel("Email").fill("bob@example");
  await page.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByText("Enter a valid email address")).toBeVisible();
  await page.getByLabel("Email").fill("bob@example.com");
  await page.getByLabel("Role").selectOption("member");
  await page.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByRole("status")).toContainText("Invitation created for bob@example.com");
  const link = await page.getByLabel("Invitation link").textContent();
  expect(link).toMatch(/\/invite#token=keel_inv_/);
  await expect(page.getByRole("table", { name: "Pending invitations" })).toContainText("bob@example.com");
  await page.getByLabel("Email").fill("bob@example.com");
  await page.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByRole("alert")).toContainText("already has a pending invitation");
  await shot(page, "04-members");

  // Create an API token, see it once, revoke it.
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { name: "API tokens" })).toBeVisible();
  await expect(page.getByText("No API tokens")).toBeVisible();
  await page.getByLabel("Token name").fill("ci-script");
  await page.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByLabel("New API token").textContent();
  expect(secret).toMatch(/^keel_pat_/);
  // The token works against the API.
  const me = await page.request.get(`${base}/api/v1/users/me`, { headers: { Authorization: `Bearer ${secret}` } });
  expect((await me.json()).email).toBe(OWNER.email);
  await expect(page.getByRole("table", { name: "API tokens" })).toContainText("ci-script");
  await shot(page, "05-account-tokens");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Revoke token ci-script" }).click();
  await expect(page.getByText("No API tokens")).toBeVisible();
  const after = await page.request.get(`${base}/api/v1/users/me`, { headers: { Authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);

  // Sign out: back to sign in, and the app's pages need signing in again.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${base}/account`);
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  expect(problems).toEqual([]);

  // The invited person opens the link, registers with the invited email and joins.
  const invitee = await page.context().browser()!.newContext();
  const p2 = await invitee.newPage();
  const problems2 = watchConsole(p2);
  await p2.goto(link!);
  await expect(p2.getByRole("heading", { name: "You are invited" })).toBeVisible();
  await p2.getByRole("link", { name: "Create account" }).click();
  await p2.getByLabel("Your name").fill("Bob Builder");
  await p2.getByLabel("Email").fill("bob@example.com");
  await p2.getByLabel("Password", { exact: true }).fill(OWNER.password);
  await p2.getByLabel("Repeat the password").fill(OWNER.password);
  await p2.getByRole("button", { name: "Create account" }).click();
  await expect(p2.getByRole("heading", { name: "Join the workspace" })).toBeVisible();
  await p2.getByRole("button", { name: "Accept invitation" }).click();
  await expect(p2).toHaveURL(/\/w\/acme-robotics$/);
  await expect(p2.getByRole("row", { name: /Launch Pad 2027/ })).toBeVisible();
  await p2.getByRole("link", { name: "Members" }).click();
  await expect(p2.getByRole("row", { name: /Bob Builder/ })).toContainText("Member");
  expect(problems2).toEqual([]);
  await invitee.close();
});

test("dark mode follows the system and the layout holds on a tablet", async ({ browser }) => {
  const base = process.env.KEEL_URL!;
  const ctx = await browser.newContext({ colorScheme: "dark", viewport: { width: 768, height: 1024 } });
  const page = await ctx.newPage();
  const problems = watchConsole(page);
  await page.goto(`${base}/login`);
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  expect(bg).toBe("rgb(17, 19, 21)");
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
  // Narrow: the sidebar folds into a menu button.
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toBeVisible();
  await expect(page.getByRole("link", { name: "Members" })).toBeHidden();
  await menu.click();
  await page.getByRole("link", { name: "Members" }).click();
  await expect(page.getByRole("heading", { name: "Members" })).toBeVisible();
  // An owner changes a member's role; it holds after a reload.
  await page.getByLabel("Role of Bob Builder").selectOption("admin");
  await expect(page.getByLabel("Role of Bob Builder")).toHaveValue("admin");
  await page.reload();
  await expect(page.getByLabel("Role of Bob Builder")).toHaveValue("admin");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  expect(overflow).toBe(false);
  await shot(page, "06-tablet-dark");
  expect(problems).toEqual([]);
  await ctx.close();
});

test("issues and time: create, search, open, change state, log time, timer, comment, report, export", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
  await page.getByRole("link", { name: "Launch Pad 2027" }).click();
  await expect(page.getByRole("heading", { name: "Launch Pad 2027" })).toBeVisible();
  await expect(page.getByText("No issues yet")).toBeVisible();

  // Create two issues; the form checks itself first.
  await page.getByRole("button", { name: "Create an issue" }).click();
  const d = page.getByRole("dialog", { name: "New issue" });
  await d.getByRole("button", { name: "Create issue" }).click();
  await expect(d.getByText("Give the issue a title.")).toBeVisible();
  await d.getByLabel("Title").fill("Rocket fails on ignition");
  await d.getByLabel("Description").fill("Seen twice.\n\nNeeds a <b>fix</b>.");
  await d.getByLabel("Priority").selectOption("urgent");
  await d.getByLabel("Estimate (minutes)").fill("120");
  await d.getByRole("button", { name: "Create issue" }).click();
  const table = page.getByRole("table", { name: "Issues" });
  await expect(table.getByRole("row", { name: /LAUNCH-1/ })).toContainText("urgent");
  await page.getByRole("button", { name: "New issue" }).click();
  await d.getByLabel("Title").fill("Paint the fins");
  await d.getByLabel("Priority").selectOption("low");
  await d.getByRole("button", { name: "Create issue" }).click();
  await expect(table.getByRole("row", { name: /LAUNCH-2/ })).toContainText("Paint the fins");

  // Full-text search and a filter.
  await page.getByLabel("Search", { exact: true }).fill("ignition");
  await page.getByLabel("Search", { exact: true }).press("Enter");
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table).toContainText("Rocket fails on ignition");
  await page.getByLabel("Search", { exact: true }).fill("");
  await page.getByLabel("Search", { exact: true }).press("Enter");
  await page.getByLabel("Priority").selectOption("low");
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table).toContainText("Paint the fins");
  await page.getByLabel("Priority").selectOption("");
  await expect(table.getByRole("row")).toHaveCount(3);
  await shot(page, "08-issues");

  // Open one; typed text stays text; change its state.
  await table.getByRole("link", { name: "Rocket fails on ignition" }).click();
  await expect(page.getByRole("heading", { name: "Rocket fails on ignition" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Description" })).toContainText("Needs a <b>fix</b>.");
  await page.getByLabel("State").selectOption({ label: "Done" });
  await expect(page.getByRole("region", { name: "Activity" })).toContainText("changed state from Backlog to Done");
  // Assignees, a new label, the estimate.
  await page.getByRole("checkbox", { name: "Olivia Owner" }).check();
  await expect(page.getByRole("region", { name: "Activity" })).toContainText("changed the assignees");
  await page.getByLabel("New label").fill("engine");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("checkbox", { name: "engine" })).toBeChecked();
  await page.getByLabel("Estimate (minutes)").fill("100");
  await page.getByLabel("Estimate (minutes)").press("Enter");
  await expect(page.getByRole("region", { name: "Activity" })).toContainText("changed estimate time from 120 to 100");
  await page.getByLabel("Estimate (minutes)").fill("120");
  await page.getByLabel("Estimate (minutes)").press("Enter");
  await expect(page.getByRole("region", { name: "Activity" })).toContainText("from 100 to 120");

  // Log time, with a note a spreadsheet would run as a formula.
  const time = page.getByRole("region", { name: "Time" });
  await time.getByRole("button", { name: "Log time" }).click();
  await expect(time.getByText("Whole minutes, 1 to 1440.")).toBeVisible();
  await time.getByLabel("Minutes").fill("90");
  await time.getByLabel("Note").fill("=cmd|' /C calc'!A0");
  await time.getByRole("button", { name: "Log time" }).click();
  await expect(time.getByLabel("Time summary")).toContainText("Logged 1h 30m of 2h estimated · 30m remaining");
  // A timer: start, stop (at least a minute is logged).
  await time.getByRole("button", { name: "Start timer" }).click();
  await time.getByRole("button", { name: "Stop timer" }).click();
  await expect(time.getByRole("table", { name: "Work logs" }).getByRole("row")).toHaveCount(3);
  await expect(time.getByRole("button", { name: "Start timer" })).toBeVisible();

  // Comments: checked before sending; markup typed is shown as text.
  const comments = page.getByRole("region", { name: "Comments" });
  await comments.getByRole("button", { name: "Comment" }).click();
  await expect(comments.getByText("Write something first.")).toBeVisible();
  await comments.getByLabel("Add a comment").fill("Fixed in <img src=x onerror=alert(1)> build 42");
  await comments.getByRole("button", { name: "Comment" }).click();
  await expect(comments.getByText("Fixed in <img src=x onerror=alert(1)> build 42")).toBeVisible();
  await shot(page, "09-issue");

  // The project's time report and its CSV export.
  await page.getByRole("link", { name: "LAUNCH", exact: true }).click();
  await page.getByRole("link", { name: "Time tracking" }).click();
  await expect(page.getByLabel("Total")).toContainText("1h 31m in 2 work logs");
  await expect(page.getByRole("table", { name: "By issue" })).toContainText("LAUNCH-1");
  await expect(page.getByRole("table", { name: "By member" })).toContainText("Olivia Owner");
  // Each row's share of the whole is a bar: one issue holds all of it.
  await expect(page.getByRole("table", { name: "By issue" }).locator(".share")).toHaveAttribute("title", "100% of the time in this range");
  // The lists sort on the server; one page holds them here, so no pager shows.
  await page.getByLabel("Sort").selectOption("name");
  await expect(page.getByRole("table", { name: "By issue" })).toContainText("LAUNCH-1");
  await expect(page.getByLabel("Issue pages")).toHaveCount(0);
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const csv = readFileSync((await (await download).path())!, "utf8");
  expect(csv.split("\n")[0]).toBe("date,project,issue,issue_title,member,email,minutes,hours,description");
  expect(csv).toContain("'=cmd|' /C calc'!A0");
  await shot(page, "10-time");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect(problems).toEqual([]);
});

test("planning and home: cycle, module, saved view, favorites, recents, quick links, stickies", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  await page.getByRole("button", { name: "Favorite Launch Pad 2027" }).click();
  await expect(page.getByRole("button", { name: "Unfavorite Launch Pad 2027" })).toBeVisible();
  await page.getByRole("link", { name: "Launch Pad 2027" }).click();

  // A cycle: both dates or neither, checked before sending.
  await page.getByRole("link", { name: "Cycles" }).click();
  await expect(page.getByText("No cycles yet")).toBeVisible();
  await page.getByRole("button", { name: "New cycle" }).click();
  const cd = page.getByRole("dialog", { name: "New cycle" });
  await cd.getByLabel("Name").fill("Sprint 1");
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  await cd.getByLabel("Start").fill(day(-1));
  await cd.getByRole("button", { name: "Create cycle" }).click();
  await expect(cd.getByText("Give both dates, or neither for a draft.")).toBeVisible();
  await cd.getByLabel("End").fill(day(12));
  await cd.getByRole("button", { name: "Create cycle" }).click();
  const cycles = page.getByRole("table", { name: "Cycles" });
  await expect(cycles.getByRole("row", { name: /Sprint 1/ })).toContainText("current");
  await page.getByRole("button", { name: "Favorite Sprint 1" }).click();
  await expect(page.getByRole("button", { name: "Unfavorite Sprint 1" })).toBeVisible();

  // A module with a lead.
  await page.getByRole("link", { name: "Modules" }).click();
  await page.getByRole("button", { name: "New module" }).click();
  const md = page.getByRole("dialog", { name: "New module" });
  await md.getByLabel("Name").fill("Engines");
  await md.getByLabel("Lead").selectOption({ label: "Olivia Owner" });
  await md.getByRole("button", { name: "Create module" }).click();
  await expect(page.getByRole("table", { name: "Modules" })).toContainText("Olivia Owner");
  await page.getByLabel("Status of Engines").selectOption("in_progress");
  await expect(page.getByLabel("Status of Engines")).toHaveValue("in_progress");

  // Put an issue in the cycle and the module; the cycle's page counts it.
  await page.getByRole("link", { name: "Issues" }).click();
  await page.getByRole("link", { name: "Paint the fins" }).click();
  await page.getByLabel("Cycle").selectOption({ label: "Sprint 1" });
  await expect(page.getByRole("region", { name: "Activity" })).toContainText("changed the cycle");
  await page.getByLabel("Module").selectOption({ label: "Engines" });
  await expect(page.getByRole("region", { name: "Activity" })).toContainText("changed the module");
  await page.getByRole("link", { name: "LAUNCH", exact: true }).click();
  await page.getByRole("link", { name: "Cycles" }).click();
  await expect(page.getByRole("row", { name: /Sprint 1/ })).toContainText("0/1");
  await page.getByRole("link", { name: "Sprint 1" }).click();
  await expect(page.getByText("Showing the issues of one cycle.")).toBeVisible();
  await expect(page.getByRole("table", { name: "Issues" }).getByRole("row")).toHaveCount(2);
  await shot(page, "11-cycle-issues");

  // A saved view from the list's filters.
  await page.getByRole("link", { name: "Show all issues" }).click();
  await page.getByLabel("Priority").selectOption("urgent");
  await expect(page.getByRole("table", { name: "Issues" }).getByRole("row")).toHaveCount(2);
  await page.getByRole("button", { name: "Save as view" }).click();
  const vd = page.getByRole("dialog", { name: "Save as view" });
  await expect(vd).toContainText("priority = urgent");
  await vd.getByRole("button", { name: "Save view" }).click();
  await expect(vd.getByText("Name the view.")).toBeVisible();
  await vd.getByLabel("View name").fill("On fire");
  await vd.getByRole("button", { name: "Save view" }).click();
  await page.getByRole("link", { name: "Views" }).click();
  await page.getByRole("link", { name: "On fire" }).click();
  await expect(page.getByRole("table", { name: "Issues" })).toContainText("Rocket fails on ignition");
  await expect(page.getByRole("table", { name: "Issues" }).getByRole("row")).toHaveCount(2);

  // Home: favorites, what was opened lately, quick links, stickies, widgets on and off.
  await page.getByRole("link", { name: "Home" }).click();
  const favorites = page.getByRole("region", { name: "Favorites" });
  await expect(favorites).toContainText("Launch Pad 2027");
  await expect(favorites).toContainText("Sprint 1");
  await expect(page.getByRole("region", { name: "Recent" })).toContainText("LAUNCH-2 Paint the fins");
  const links = page.getByRole("region", { name: "Quick links" });
  await links.getByLabel("Address").fill("javascript:alert(1)");
  await links.getByRole("button", { name: "Add link" }).click();
  await expect(links.getByText("A web address, starting with https://")).toBeVisible();
  await links.getByLabel("Address").fill("https://example.com/runbook");
  await links.getByLabel("Title").fill("Runbook");
  await links.getByRole("button", { name: "Add link" }).click();
  await expect(links.getByRole("link", { name: "Runbook" })).toHaveAttribute("href", "https://example.com/runbook");
  const stickies = page.getByRole("region", { name: "Stickies" });
  await stickies.getByLabel("New sticky").fill("Order <b>more</b> fuel");
  await stickies.getByRole("button", { name: "Add sticky" }).click();
  await expect(stickies).toContainText("Order <b>more</b> fuel");
  await shot(page, "12-home");
  await page.getByRole("checkbox", { name: "Stickies" }).uncheck();
  await expect(page.getByRole("region", { name: "Stickies" })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("checkbox", { name: "Stickies" })).not.toBeChecked();
  await expect(page.getByRole("region", { name: "Stickies" })).toHaveCount(0);

  await page.getByRole("button", { name: "Sign out" }).click();
  expect(problems).toEqual([]);
});

test("devices and sync: a second instance connects to this server, takes its workspaces, and is revoked", async ({ page, context }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  const other = await startKeel();
  try {
    // A laptop's own Keel, on its first run.
    const laptop = await context.newPage();
    const laptopProblems = watchConsole(laptop);
    await laptop.goto(`${other.url}/setup`);
    await laptop.getByLabel("Your name").fill("Lee Laptop");
    await laptop.getByLabel("Email").fill("lee@example.com");
    await laptop.getByLabel("Password", { exact: true }).fill("laptop password 1");
    await laptop.getByLabel("Repeat the password").fill("laptop password 1");
    await laptop.getByRole("button", { name: "Create account" }).click();
    await expect(laptop).toHaveURL(/\/workspaces$/);
    await laptop.getByRole("link", { name: "Devices and sync" }).click();
    await expect(laptop.getByText("Not syncing with any server")).toBeVisible();
    await expect(laptop.getByText("No devices")).toBeVisible();

    // Connect it to this server: checked before sending, then refused with a wrong password.
    const form = laptop.getByRole("form", { name: "Connect to a server" });
    await form.getByRole("button", { name: "Connect" }).click();
    await expect(form.getByText("An address starting with http:// or https://")).toBeVisible();
    await form.getByLabel("Server address").fill(base);
    await form.getByLabel("Email there").fill(OWNER.email);
    await form.getByLabel("Password there").fill("not the password");
    await form.getByLabel("Name of this device").fill("Lee's laptop");
    await form.getByRole("button", { name: "Connect" }).click();
    await expect(form.getByText("That email and password do not match an account on that server")).toBeVisible();
    await expect(laptop.getByText("Not syncing with any server")).toBeVisible();
    await form.getByLabel("Password there").fill(OWNER.password);
    await form.getByRole("button", { name: "Connect" }).click();
    const peers = laptop.getByRole("table", { name: "Sync servers" });
    const row = peers.getByRole("row").nth(1);
    await expect(row.getByRole("cell").nth(0)).toHaveText(base);
    await expect(row.getByRole("cell").nth(1)).toHaveText("Connected");
    await expect(row.getByRole("cell").nth(2)).toContainText("caught up in");
    await expect(row.getByRole("cell").nth(3)).toHaveText("Nothing");
    await shot(laptop, "13-sync-laptop");

    // The server lists the laptop among the owner's devices, and revokes it.
    await signIn(page, base);
    await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
    await page.getByRole("link", { name: "Devices and sync" }).click();
    const devices = page.getByRole("table", { name: "Devices" });
    const device = devices.getByRole("row", { name: /Lee's laptop/ });
    await expect(device).toContainText("Active");
    await shot(page, "14-devices");
    page.once("dialog", (d) => void d.accept());
    await device.getByRole("button", { name: "Revoke device Lee's laptop" }).click();
    await expect(device).toContainText("Revoked");
    await expect(device.getByRole("button")).toHaveCount(0);

    // The laptop is cut off and says why; what it took before stays: the owner signs in
    // there with the same account and finds the workspace.
    await expect(row.getByRole("cell").nth(1)).toContainText("Offline");
    await expect(row.getByRole("cell").nth(1)).toContainText("the server no longer accepts this device (revoked there); connect to it again to resume syncing");
    await laptop.getByRole("button", { name: "Sign out" }).click();
    await laptop.getByLabel("Email").fill(OWNER.email);
    await laptop.getByLabel("Password").fill(OWNER.password);
    await laptop.getByRole("button", { name: "Sign in" }).click();
    await laptop.getByRole("link", { name: "Workspaces" }).click();
    await expect(laptop.getByRole("link", { name: /Acme Robotics/ })).toBeVisible();
    expect(laptopProblems).toEqual([]);
  } finally {
    await other.stop();
  }
  await page.getByRole("button", { name: "Sign out" }).click();
  expect(problems).toEqual([]);
});

test("departments: a tree to build, collapse, reorder, move by drag and drop, with the rules shown first", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  await page.getByRole("link", { name: "Departments" }).click();
  await expect(page.getByText("No departments yet")).toBeVisible();
  const tree = page.getByRole("tree", { name: "Departments" });
  const item = (name: string) => tree.getByRole("treeitem", { name, exact: true });
  const rowOf = (name: string) => item(name).locator(".dept-row").first();
  const create = async (name: string, code: string, short: string, num: string, below?: string) => {
    await (below ? page.getByRole("button", { name: `Add below ${below}` }) : page.getByRole("button", { name: "New department" })).click();
    const d = page.getByRole("dialog", { name: "New department" });
    await d.getByLabel("Name", { exact: true }).fill(name);
    await d.getByLabel("Code", { exact: true }).fill(code);
    await d.getByLabel("Short name").fill(short);
    await d.getByLabel("Department code").fill(num);
    await d.getByRole("button", { name: "Create department" }).click();
    return d;
  };
  // The rules are shown before sending: four digits, upper case kept.
  const first = await create("Engineering", "ENG", "eng", "10");
  await expect(first.getByText("Exactly 4 digits")).toBeVisible();
  await first.getByLabel("Department code").fill("1000");
  await first.getByRole("button", { name: "Create department" }).click();
  await expect(first).toBeHidden();
  await expect(rowOf("Engineering")).toContainText("ENG");
  await expect((await create("Platform", "PLAT", "PLT", "1100", "Engineering"))).toBeHidden();
  await expect((await create("Web", "WEB", "WEB", "1110", "Platform"))).toBeHidden();
  await expect((await create("Sales", "SALES", "SAL", "2000"))).toBeHidden();
  await expect(item("Web")).toHaveAttribute("aria-level", "3");
  // A code the workspace already uses: the server's answer, in words.
  const dup = await create("Engineering again", "eng", "ENG2", "1001");
  await expect(dup.getByRole("alert")).toContainText("Another department of this workspace uses that code.");
  await dup.getByRole("button", { name: "Cancel" }).click();

  // Collapse and expand.
  await page.getByRole("button", { name: "Collapse Engineering" }).click();
  await expect(item("Platform")).toBeHidden();
  await page.getByRole("button", { name: "Expand Engineering" }).click();
  await expect(item("Platform")).toBeVisible();

  // Reorder the top level: Sales up, before Engineering.
  await page.getByRole("button", { name: "Move Sales up" }).click();
  await expect(tree.locator(":scope > li").first()).toHaveAttribute("aria-label", "Sales");

  // Drag Sales below Web: the whole department moves, to level 4.
  await rowOf("Sales").dragTo(rowOf("Web"));
  await expect(item("Sales")).toHaveAttribute("aria-level", "4");
  // Dragging Engineering below its own Web is refused before anything is sent.
  await rowOf("Engineering").dragTo(rowOf("Web"));
  await expect(page.getByText(/cannot go below itself/)).toBeVisible();
  await expect(item("Engineering")).toHaveAttribute("aria-level", "1");
  // The edit form offers only the parents a move may go to.
  await page.getByRole("button", { name: "Edit Engineering" }).click();
  const ed = page.getByRole("dialog", { name: "Edit department" });
  await expect(ed.getByRole("option", { name: /Web — not possible/ })).toBeDisabled();
  await ed.getByRole("button", { name: "Cancel" }).click();
  await shot(page, "11-departments");

  // Deleting a department with sub-departments says where they go.
  await page.getByRole("button", { name: "Delete Platform" }).click();
  const del = page.getByRole("dialog", { name: "Delete department" });
  await del.getByLabel("Move its sub-departments to").selectOption("root");
  await del.getByRole("button", { name: "Delete" }).click();
  await expect(item("Platform")).toHaveCount(0);
  await expect(item("Web")).toHaveAttribute("aria-level", "1");
  await expect(item("Sales")).toHaveAttribute("aria-level", "2");
  expect(problems).toEqual([]);
});

test("staff: a record to add, edit and transfer, an import with bad rows then a good file, export, deactivate", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  await page.getByRole("link", { name: "Staff" }).click();
  await expect(page.getByText("No staff records here")).toBeVisible();
  // A new record: the rules are shown before sending.
  await page.getByRole("button", { name: "Add staff record" }).click();
  const add = page.getByRole("dialog", { name: "New staff record" });
  await add.getByLabel("Member").selectOption({ label: `${OWNER.name} (${OWNER.email})` });
  await add.getByLabel("Staff ID").fill("TOO-LONG-ID");
  await add.getByLabel("Phone").fill("call me");
  await add.getByRole("button", { name: "Create record" }).click();
  await expect(add.getByText("1–8 letters, digits, - or _")).toBeVisible();
  await expect(add.getByText("Up to 20 digits, spaces or + - ( ) .")).toBeVisible();
  await add.getByLabel("Staff ID").fill("E0001");
  await add.getByLabel("Phone").fill("+1 555 0100");
  await add.getByLabel("Department", { exact: true }).selectOption({ label: "Engineering" });
  await add.getByLabel("Position").fill("Founder");
  await add.getByRole("button", { name: "Create record" }).click();
  await expect(add).toBeHidden();
  const table = page.getByRole("table", { name: "Staff" });
  const row = table.getByRole("row", { name: OWNER.name });
  await expect(row).toContainText("E0001");
  await expect(row).toContainText("Engineering");
  await expect(row).toContainText("+1 555 0100");
  await expect(page.getByRole("img", { name: /1 active, 0 inactive/ })).toBeVisible();

  // Edit, then transfer to Web with a reason; the history shows it.
  await page.getByRole("button", { name: `Edit ${OWNER.name}` }).click();
  const ed = page.getByRole("dialog", { name: "Edit staff record" });
  await ed.getByLabel("Position").fill("CEO");
  await ed.getByRole("button", { name: "Save" }).click();
  await expect(ed).toBeHidden();
  await expect(row).toContainText("CEO");
  await page.getByRole("button", { name: `Transfer ${OWNER.name}` }).click();
  const tr = page.getByRole("dialog", { name: "Transfer" });
  await tr.getByLabel("New department").selectOption({ label: "Web" });
  await tr.getByLabel("Reason").fill("Build the web team");
  await tr.getByRole("button", { name: "Transfer" }).click();
  await expect(tr).toBeHidden();
  await expect(row).toContainText("Web");
  await page.getByRole("button", { name: `Transfer ${OWNER.name}` }).click();
  await expect(tr.getByRole("list", { name: "Transfer history" })).toContainText("Engineering → Web · Build the web team");
  await tr.getByRole("button", { name: "Cancel" }).click();
  // The department filter with its subtree finds them; another department does not.
  await page.getByLabel("Department", { exact: true }).selectOption({ label: "Sales" });
  await expect(page.getByText("No staff records here")).toBeVisible();
  await page.getByLabel("Department", { exact: true }).selectOption({ label: "Web" });
  await expect(row).toBeVisible();
  await page.getByLabel("Department", { exact: true }).selectOption({ label: "All departments" });

  // Import: a file with bad rows shows every problem and cannot be imported; a good one can.
  await page.getByRole("button", { name: "Import" }).click();
  const im = page.getByRole("dialog", { name: "Import staff" });
  const bad = "\ufeffStaff ID;Email;Department;Employment status\r\nE0001;" + OWNER.email + ";NOPE;active\r\nE0002;nobody@example.com;ENG;retired\r\n";
  await im.getByLabel("CSV or JSON file").setInputFiles({ name: "staff.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
  const rowsTable = im.getByRole("table", { name: "Row problems" });
  await expect(rowsTable).toContainText("no live department has the code nope");
  await expect(rowsTable).toContainText("nobody@example.com is not a member");
  await expect(rowsTable).toContainText("employment_status");
  await expect(im.getByRole("button", { name: /^Import/ })).toBeDisabled();
  await shot(page, "12-staff-import-problems");
  const good = "Staff ID;Email;Department;Position;Notes\r\nE0001;" + OWNER.email + ';SALES;Chief;"two\r\nlines"\r\n';
  await im.getByLabel("CSV or JSON file").setInputFiles({ name: "staff.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
  await expect(im.getByRole("table", { name: "Import preview" })).toContainText("update");
  await im.getByRole("button", { name: "Import 1 rows" }).click();
  await expect(im.getByRole("status")).toContainText("Imported 1 rows: 0 new, 1 updated");
  await expect(im.getByLabel("Import progress").locator("progress")).toHaveAttribute("value", "4");
  await im.getByRole("button", { name: "Done" }).click();
  await expect(row).toContainText("Sales");
  await expect(row).toContainText("Chief");

  // Export: the file is the list, as CSV.
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const file = readFileSync((await (await download).path())!, "utf8");
  expect(file.split("\n")[0]).toContain("staff_id,email,name,department");
  expect(file).toContain("E0001");
  expect(file).toContain('"two\r\nlines"');
  // The time logged earlier (by a person in no department then) shows by department.
  await expect(page.getByRole("list", { name: "Hours per department" })).toBeVisible();
  await shot(page, "13-staff");

  // A manager joins the department's team project, and the project says why.
  await page.getByRole("link", { name: "Departments" }).click();
  await page.getByRole("button", { name: "Edit Web" }).click();
  const dep = page.getByRole("dialog", { name: "Edit department" });
  await dep.getByLabel("Manager").selectOption({ label: OWNER.name });
  await dep.getByLabel("Team project").selectOption({ label: "LAUNCH · Launch Pad 2027" });
  await dep.getByRole("button", { name: "Save" }).click();
  await expect(dep).toBeHidden();
  await page.getByRole("link", { name: "Projects" }).click();
  await page.getByRole("link", { name: "Launch Pad 2027" }).click();
  await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Members" }).click();
  const mrow = page.getByRole("table", { name: "Project members" }).getByRole("row", { name: OWNER.name });
  await expect(mrow).toContainText("added by hand");
  await expect(mrow).toContainText("manages Web");
  await expect(mrow.getByRole("button", { name: `Remove ${OWNER.name}` })).toBeDisabled();
  await expect(page.getByRole("list", { name: "Project history" })).toContainText("added by hand, manages Web");
  await shot(page, "14-project-members");
  await page.getByRole("link", { name: "Staff" }).click();

  // Deactivate: resigned, and the dashboard follows.
  await page.getByRole("button", { name: `Deactivate ${OWNER.name}` }).click();
  const de = page.getByRole("dialog", { name: "Deactivate" });
  await de.getByRole("button", { name: "Deactivate" }).click();
  await expect(de).toBeHidden();
  await expect(row).toContainText("resigned");
  await expect(page.getByRole("img", { name: /0 active, 1 inactive/ })).toBeVisible();
  expect(problems).toEqual([]);
});

/** A licence for workspace `ws`, signed with the test key (`plans::licence::TEST_KEY_SEED`),
 * which only builds for tests trust; armoured as `keel-licence` writes it. */
function testLicence(ws: string): string {
  const seed = Buffer.from("keel-licence-test-key-not-secret");
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const today = new Date();
  const day = (d: number) => new Date(today.getTime() + d * 86_400_000).toISOString().slice(0, 10);
  const payload = Buffer.from(
    JSON.stringify({
      format: 1, key: "keel-test", licence_id: "LIC-E2E-0001", customer: "Olivia's Company",
      workspace: ws, plan: "premium", seats: 10, issued: day(-1), expires: day(364),
    }),
  );
  const body = `${payload.toString("base64url")}.${edSign(null, payload, key).toString("base64url")}`;
  return `-----BEGIN KEEL LICENCE-----\n${body.match(/.{1,64}/g)!.join("\n")}\n-----END KEEL LICENCE-----\n`;
}

test("plan: a free workspace sees premium locked; the owner installs a licence and the plan turns premium", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  await page.getByRole("link", { name: "Plan" }).click();
  const current = page.getByRole("region", { name: "Current plan" });
  await expect(current.getByText("Free plan", { exact: true })).toBeVisible();
  await expect(current).toContainText("no limit on this plan");
  // Free features on; premium ones locked, saying what unlocks them.
  const features = page.getByRole("region", { name: "Features" });
  await expect(features.locator('[data-feature="time_tracking"]')).toHaveAttribute("data-enabled", "true");
  const dashboards = features.locator('[data-feature="dashboards"]');
  await expect(dashboards).toHaveAttribute("data-enabled", "false");
  await expect(dashboards).toContainText("needs premium");
  await shot(page, "20-plan-free");

  // A licence for another workspace is refused with its reason, and nothing changes.
  const upload = page.getByRole("region", { name: "Licence" });
  await upload.getByLabel("Licence text").fill(testLicence("WK-SOMEONEEL"));
  await upload.getByRole("button", { name: "Install licence" }).click();
  await expect(upload.getByText(/for workspace WK-SOMEONEEL, not this one/)).toBeVisible();
  await expect(current.getByText("Free plan", { exact: true })).toBeVisible();

  // This workspace's licence: premium, with its seats and dates.
  const ws = (await page.getByTestId("display-id").textContent())!.trim();
  await upload.getByLabel("Licence text").fill(testLicence(ws));
  await upload.getByRole("button", { name: "Install licence" }).click();
  await expect(current.getByText("Premium", { exact: true })).toBeVisible();
  await expect(current).toContainText("LIC-E2E-0001");
  await expect(current.getByRole("progressbar")).toBeVisible();
  await expect(current).toContainText("of 10 seats");
  await expect(dashboards).not.toContainText("needs premium");
  await shot(page, "21-plan-premium");

  // Removed: back to free, nothing else changes.
  page.once("dialog", (d) => void d.accept());
  await upload.getByRole("button", { name: "Remove licence" }).click();
  await expect(current.getByText("Free plan", { exact: true })).toBeVisible();
  expect(problems).toEqual([]);
});

test("analytics and dashboards: overview cards, two charts checked against the API, the table, CSV and image export, the time chart, the default dashboard, metrics, a dashboard built in the widget editor", async ({ page }) => {
  // One session for all of it (the login rate limit), so more time than one page's test.
  test.setTimeout(180_000);
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  const login = await page.request.post(`${base}/api/v1/auth/login`, { data: { email: OWNER.email, password: OWNER.password } });
  const token = (await login.json()).access_token as string;
  const api = async (q: string) => {
    const r = await page.request.get(`${base}/api/v1/workspaces/acme-robotics/analytics/charts?${q}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(r.status()).toBe(200);
    return r.json();
  };
  await page.getByRole("link", { name: "Analytics" }).click();
  await expect(page.getByRole("heading", { name: "Analytics" })).toBeVisible();
  // The overview as cards.
  const overview = page.getByRole("region", { name: "Overview" });
  await expect(overview.getByLabel("Work items", { exact: true })).toBeVisible();
  await expect(overview.getByLabel("Estimate vs actual")).toContainText("logged of");

  // Chart one: work items by state group (the default), drawn, with its table.
  const builder = page.getByRole("region", { name: "Chart builder" });
  await expect(builder.getByTestId("chart")).toBeVisible();
  await expect(builder.getByTestId("chart").locator("canvas")).toHaveCount(1);
  const byGroup = await api("x_axis=STATE_GROUPS&y_axis=work_item_count&interval=month");
  await expect(builder.getByTestId("chart-total")).toHaveText(String(byGroup.total));
  const table = builder.getByRole("table", { name: "Chart data" });
  for (const row of byGroup.data) {
    await expect(table.getByRole("row", { name: new RegExp(`^${row.name}`) })).toContainText(String(row.count));
  }
  await shot(page, "22-analytics");

  // Chart two: logged time by priority, grouped by label, as stacked bars.
  await builder.getByLabel("X axis").selectOption("PRIORITY");
  await builder.getByLabel("Group by").selectOption("LABELS");
  await builder.getByLabel("Measure").selectOption("logged_minutes");
  await builder.getByRole("button", { name: "Show" }).click();
  await builder.getByText("Stacked").click();
  const logged = await api("x_axis=PRIORITY&group_by=LABELS&y_axis=logged_minutes&interval=month");
  await expect(builder.getByTestId("chart-summary")).toContainText("Logged time by priority, grouped");
  await expect(table.getByRole("columnheader", { name: "engine" })).toBeVisible();
  // LAUNCH-1 (urgent, label "engine") holds the time logged in the issues test.
  const urgent = logged.data.find((r: { key: string }) => r.key === "urgent");
  expect(urgent.count).toBeGreaterThanOrEqual(91);
  const engine = Object.keys(logged.schema).find((k) => logged.schema[k] === "engine")!;
  expect(urgent[engine]).toBeGreaterThanOrEqual(91);
  const hm = (m: number) => `${Math.floor(m / 60) > 0 ? `${Math.floor(m / 60)}h ` : ""}${m % 60}m`;
  await expect(table.getByRole("row", { name: /^Urgent/ })).toContainText(hm(urgent.count));
  await expect(builder.getByTestId("chart-total")).toHaveText(hm(logged.total));
  await shot(page, "23-analytics-grouped");

  // Report images drawn by the server are premium: locked here (the plan test removed the
  // licence), saying what unlocks them.
  await expect(builder.getByTestId("images-locked")).toContainText("come with premium");
  await expect(builder.getByRole("link", { name: "See the plan" })).toBeVisible();

  // Exports: PNG and SVG of the chart, CSV of its table.
  const png = page.waitForEvent("download");
  await builder.getByRole("button", { name: "PNG" }).click();
  const pngBytes = readFileSync((await (await png).path())!);
  expect(pngBytes.subarray(1, 4).toString()).toBe("PNG");
  const svg = page.waitForEvent("download");
  await builder.getByRole("button", { name: "SVG" }).click();
  const svgText = readFileSync((await (await svg).path())!, "utf8");
  expect(svgText).toContain("<svg");
  expect(svgText).toContain("Urgent");
  const csvDl = page.waitForEvent("download");
  await builder.getByRole("button", { name: "CSV" }).click();
  const csv = readFileSync((await (await csvDl).path())!, "utf8");
  expect(csv.split("\n")[0]).toContain("Priority,key,Logged time");
  expect(csv).toContain(`Urgent,urgent,${urgent.count}`);

  // The chart type is a radio group: the keyboard moves through it.
  await builder.getByRole("radio", { name: "Line" }).check();
  await builder.getByRole("radio", { name: "Line" }).focus();
  await page.keyboard.press("ArrowRight");
  await expect(builder.getByRole("radio", { name: "Area" })).toBeChecked();
  // Dark mode: the chart follows the page's colours.
  await page.emulateMedia({ colorScheme: "dark" });
  await builder.getByRole("radio", { name: "Donut" }).check();
  await expect(builder.getByTestId("chart").locator("canvas")).toHaveCount(1);
  await shot(page, "25-analytics-dark");
  await page.emulateMedia({ colorScheme: "light" });

  // A filter that matches nothing shows the empty state, not an empty chart.
  await builder.getByLabel("Created from").fill("2001-01-01");
  await builder.getByLabel("Created to").fill("2001-01-31");
  await builder.getByRole("button", { name: "Show" }).click();
  await expect(builder.getByText("Nothing to chart")).toBeVisible();

  // The project's time tracking page has its chart: time per week per member.
  await page.getByRole("link", { name: "Projects", exact: true }).click();
  await page.getByRole("link", { name: "Launch Pad 2027" }).click();
  await page.getByRole("link", { name: "Time tracking" }).click();
  await expect(page.getByRole("img", { name: /Time per week and member/ })).toBeVisible();
  await shot(page, "24-time-chart");
  await dashboards(page, base, token);
  expect(problems).toEqual([]);
});

/**
 * Dashboards (run within the analytics test, whose session it shares: the login rate limit
 * allows no more sign-ins): the default dashboard's widgets where their positions put them,
 * its figures those of the API, more dashboards locked on free.
 */
async function dashboards(page: Page, base: string, token: string) {
  const get = async (path: string) => {
    const r = await page.request.get(`${base}/api/v1/workspaces/acme-robotics/${path}`, { headers: { Authorization: `Bearer ${token}` } });
    expect(r.status()).toBe(200);
    return r.json();
  };
  await page.getByRole("link", { name: "Dashboards" }).click();
  await expect(page.getByRole("heading", { name: "Dashboards" })).toBeVisible();
  await expect(page.getByLabel("Dashboard", { exact: true })).toContainText("Overview (default)");
  const [d] = await get("dashboards");
  const data = await get(`dashboards/${d.id}/data`);
  // Four widgets, each drawn by its type.
  const overview = page.getByTestId("widget-overview");
  const chart = page.getByTestId("widget-chart");
  const projects = page.getByTestId("widget-project_stats");
  const time = page.getByTestId("widget-time_summary");
  for (const w of [overview, chart, projects, time]) await expect(w).toBeVisible();
  // Their figures are the API's: the overview's work items, the chart's total, its canvas.
  const figures = data.widgets.find((w: { widget_type: string }) => w.widget_type === "overview").data;
  await expect(overview.getByTestId("figure-Work items")).toHaveText(String(figures.total_work_items.filter_count));
  const byState = data.widgets.find((w: { widget_type: string }) => w.widget_type === "chart").data;
  await expect(chart.getByTestId("widget-total")).toHaveText(`${byState.total} work items in all`);
  await expect(chart.getByTestId("chart").locator("canvas")).toHaveCount(1);
  await expect(projects.getByRole("progressbar").first()).toBeVisible();
  await expect(time.getByRole("list", { name: "Time by member" })).toContainText("Olivia Owner");
  // Where the grid puts them: the overview across the top, the chart and the projects side
  // by side under it, the time below the chart.
  const [o, c, p, t] = await Promise.all([overview, chart, projects, time].map((w) => w.boundingBox()));
  expect(c!.y).toBeGreaterThan(o!.y + o!.height - 1);
  expect(Math.abs(c!.y - p!.y)).toBeLessThan(2);
  expect(p!.x).toBeGreaterThan(c!.x + c!.width - 1);
  expect(Math.abs(o!.width - (p!.x + p!.width - c!.x))).toBeLessThan(2);
  expect(t!.y).toBeGreaterThan(c!.y + c!.height - 1);
  // More dashboards are premium: locked on this free workspace, with what unlocks them.
  await expect(page.getByTestId("dashboards-locked")).toContainText("premium plan");
  await expect(page.getByTestId("dashboards-locked").getByRole("link", { name: "See the plan" })).toBeVisible();
  await shot(page, "26-dashboard");
  await arrange(page, get, d.id, base, token);
  // The person's own choices: a favourite (starred in the picker) and the one opened first.
  await page.getByRole("button", { name: "Favourite" }).click();
  await expect(page.getByRole("button", { name: "Favourite" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByLabel("Dashboard", { exact: true })).toContainText("★ Overview");
  expect((await get(`dashboards/${d.id}`)).is_favorite).toBe(true);
  await page.getByRole("button", { name: "Open this first" }).click();
  await expect(page.getByRole("button", { name: "Opens first for you" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByLabel("Dashboard", { exact: true })).toContainText("Overview (my default)");
  await page.getByRole("button", { name: "Opens first for you" }).click();
  await expect(page.getByRole("button", { name: "Open this first" })).toHaveAttribute("aria-pressed", "false");
  expect((await get(`dashboards/${d.id}`)).is_my_default).toBe(false);
  await page.emulateMedia({ colorScheme: "dark" });
  await expect(chart.getByTestId("chart").locator("canvas")).toHaveCount(1);
  await shot(page, "27-dashboard-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await metrics(page, base, token, d.id);
  // Back to the projects, where the next test signs in.
  await page.getByRole("link", { name: "Projects", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
}

/**
 * Metrics (seed 004), with a premium licence for their levels: the system metrics as cards,
 * a metric made in the form, its value the API's, a change that turns it warning once it is
 * computed again, and the same card on the dashboard as a widget. The licence goes after.
 */
async function metrics(page: Page, base: string, token: string, dashboard: string) {
  const api = `${base}/api/v1/workspaces/acme-robotics`;
  const headers = { Authorization: `Bearer ${token}` };
  const plan = await (await page.request.get(`${api}/plan`, { headers })).json();
  const put = await page.request.put(`${api}/licence`, { headers, data: { licence: testLicence(plan.workspace) } });
  expect(put.status()).toBe(200);
  // A fresh page: what it knew of the plan (free) is gone with it.
  await page.reload();
  await page.getByRole("link", { name: "Metrics", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Metrics", exact: true })).toBeVisible();
  await expect(page.getByTestId("metric-Open work items")).toBeVisible();
  await expect(page.getByTestId("thresholds-locked")).toHaveCount(0);
  // How many urgent work items are open now, as the chart builder counts them.
  const chart = await (
    await page.request.get(`${api}/analytics/charts?x_axis=PRIORITY&priority=urgent&state_group=backlog,unstarted,started`, { headers })
  ).json();
  const before: number = chart.total;
  await page.getByRole("button", { name: "New metric" }).click();
  const form = page.getByRole("form", { name: "New metric" });
  await form.getByLabel("Name").fill("Urgent and open");
  await form.getByLabel("Priority").selectOption("urgent");
  await form.getByLabel("State").selectOption("backlog,unstarted,started");
  await form.getByLabel("Warning at").fill(String(before + 1));
  await form.getByLabel("Critical at").fill(String(before + 3));
  await form.getByRole("button", { name: "Create metric" }).click();
  await expect(form).toHaveCount(0);
  const card = page.getByTestId("metric-Urgent and open");
  await expect(card).toHaveAttribute("data-status", "normal");
  await expect(card.getByTestId("metric-value")).toHaveText(before.toLocaleString("en-US"));
  await expect(card).toContainText(`warning ≥ ${before + 1}`);
  // One more urgent work item: the next computation turns the card warning.
  const projects = await (await page.request.get(`${api}/projects`, { headers })).json();
  const made = await page.request.post(`${api}/projects/${projects.items[0].id}/issues`, { headers, data: { name: "Pager went off", priority: "urgent" } });
  expect(made.status()).toBe(201);
  await card.getByRole("button", { name: "Refresh Urgent and open" }).click();
  await expect(card).toHaveAttribute("data-status", "warning");
  await expect(card.getByTestId("metric-value")).toHaveText((before + 1).toLocaleString("en-US"));
  await expect(card).toContainText("up 1 since the last refresh");
  const list = await (await page.request.get(`${api}/metrics`, { headers })).json();
  const m = list.find((x: { name: string }) => x.name === "Urgent and open");
  expect([m.status, m.value]).toEqual(["warning", before + 1]);
  await shot(page, "30-metrics");
  // A shared dashboard of four widget types built in the editor, each previewed live before
  // it is added: a chart, a number, the metric (as warning as its card) and a note.
  await page.getByRole("link", { name: "Dashboards", exact: true }).click();
  await page.getByRole("button", { name: "New dashboard" }).click();
  const nd = page.getByRole("form", { name: "New dashboard" });
  await nd.getByLabel("Name").fill("Operations");
  await nd.getByLabel("Shared with the workspace").check();
  await nd.getByRole("button", { name: "Create dashboard" }).click();
  await expect(page.getByLabel("Dashboard", { exact: true })).toContainText("Operations (shared)");
  await expect(page.getByText("No widgets yet")).toBeVisible();
  const add = async (type: RegExp, fill: (f: Locator) => Promise<unknown>, seen: (p: Locator) => Promise<unknown>) => {
    await page.getByRole("button", { name: "Add widget" }).click();
    const f = page.getByRole("form", { name: "Add a widget" });
    await f.getByRole("radio", { name: type }).check();
    await fill(f);
    await seen(f.getByTestId("widget-preview"));
    await f.getByRole("button", { name: "Add widget" }).click();
    await expect(f).toHaveCount(0);
  };
  await add(/^Chart/, (f) => f.getByLabel("X axis").selectOption("PRIORITY"), (p) => expect(p.getByTestId("chart").locator("canvas")).toHaveCount(1));
  await add(
    /^Number/,
    async (f) => {
      await f.getByLabel("Title").fill("Urgent work");
      await f.getByLabel("Priority filter").selectOption("urgent");
      await f.getByLabel("State filter").selectOption("backlog,unstarted,started");
    },
    (p) => expect(p.getByTestId("number-Urgent work")).toHaveText((before + 1).toLocaleString("en-US")),
  );
  await add(
    /^Metric/,
    (f) => f.getByLabel("Metric", { exact: true }).selectOption({ label: "Urgent and open" }),
    (p) => expect(p.getByTestId("metric-Urgent and open")).toHaveAttribute("data-status", "warning"),
  );
  await add(
    /^Text note/,
    (f) => f.getByLabel("Text", { exact: true }).fill("On call this week: Ada"),
    (p) => expect(p).toContainText("On call this week: Ada"),
  );
  for (const t of ["chart", "number", "metric", "text"]) await expect(page.getByTestId(`widget-${t}`)).toBeVisible();
  await expect(page.getByTestId("widget-metric").getByTestId("metric-Urgent and open")).toHaveAttribute("data-status", "warning");
  // What the grid shows is what the API answers for the dashboard.
  const list2 = await (await page.request.get(`${api}/dashboards`, { headers })).json();
  const ops = list2.find((x: { name: string }) => x.name === "Operations");
  const data = await (await page.request.get(`${api}/dashboards/${ops.id}/data`, { headers })).json();
  expect(data.widgets.map((w: { widget_type: string }) => w.widget_type).sort()).toEqual(["chart", "metric", "number", "text"]);
  expect(data.widgets.find((w: { widget_type: string }) => w.widget_type === "number").data.value).toBe(before + 1);
  await shot(page, "31-dashboard-built");
  // Edited in place: the chart redrawn as a donut.
  await page.getByTestId("widget-chart").getByRole("button", { name: /^Edit/ }).click();
  const ed = page.getByRole("form", { name: /^Edit/ });
  await ed.getByLabel("Drawn as").selectOption("donut");
  await ed.getByRole("button", { name: "Save widget" }).click();
  await expect(ed).toHaveCount(0);
  const after = await (await page.request.get(`${api}/dashboards/${ops.id}`, { headers })).json();
  expect(after.widgets.find((w: { widget_type: string }) => w.widget_type === "chart").chart_type).toBe("donut");
  // Exported as a file, and imported into a second workspace: the same four widgets there,
  // the metric made with it. A file with problems lists them and makes nothing.
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export", exact: true }).click();
  const file = await (await download).path();
  const exported = JSON.parse(readFileSync(file, "utf8"));
  expect([exported.format, exported.widgets.length, exported.metrics.length]).toEqual(["keel-dashboard", 4, 1]);
  const second = await page.request.post(`${base}/api/v1/workspaces`, { headers, data: { name: "Second Robotics", slug: "second-robotics" } });
  expect(second.status()).toBe(201);
  const plan2 = await (await page.request.get(`${base}/api/v1/workspaces/second-robotics/plan`, { headers })).json();
  expect((await page.request.put(`${base}/api/v1/workspaces/second-robotics/licence`, { headers, data: { licence: testLicence(plan2.workspace) } })).status()).toBe(200);
  await page.goto(`${base}/w/second-robotics/dashboards`);
  const broken = { ...exported, widgets: [...exported.widgets, { widget_type: "gauge", position: { x: 0, y: 0, w: 6, h: 4 } }] };
  await page.getByLabel("Import a dashboard").setInputFiles({ name: "broken.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(broken)) });
  await expect(page.getByTestId("import-problems")).toContainText("widgets[4].widget_type");
  expect((await (await page.request.get(`${base}/api/v1/workspaces/second-robotics/dashboards`, { headers })).json()).length).toBe(1);
  await page.getByLabel("Import a dashboard").setInputFiles(file);
  await expect(page.getByLabel("Dashboard", { exact: true })).toContainText("Operations");
  for (const t of ["chart", "number", "metric", "text"]) await expect(page.getByTestId(`widget-${t}`)).toBeVisible();
  await expect(page.getByTestId("widget-metric").getByTestId("metric-Urgent and open")).toBeVisible();
  await shot(page, "32-dashboard-imported");
  for (const slug of ["acme-robotics", "second-robotics"])
    expect((await page.request.delete(`${base}/api/v1/workspaces/${slug}/licence`, { headers })).status()).toBe(204);
  // The second workspace goes again: the tests after sign in to the only one.
  expect((await page.request.delete(`${base}/api/v1/workspaces/second-robotics`, { headers })).status()).toBe(204);
  await page.goto(`${base}/w/acme-robotics/dashboards/${dashboard}`);
}

type Pos = { x: number; y: number; w: number; h: number };

/** Arranges the default dashboard: a widget dragged and one resized with the mouse, one with
 * the keyboard, the layout saved and found after a reload, and an earlier layout restored. */
async function arrange(page: Page, get: (path: string) => Promise<any>, id: string, base: string, token: string) {
  const positions = async () => {
    const d = await get(`dashboards/${id}`);
    return Object.fromEntries(d.widgets.map((w: { title: string; position: Pos }) => [w.title, w.position])) as Record<string, Pos>;
  };
  // A note far below the others, with a gap above it: arranging must not move it.
  const note = await page.request.post(`${base}/api/v1/workspaces/acme-robotics/dashboards/${id}/widgets`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { widget_type: "text", title: "Note", config: { text: "Ship it" }, position: { x: 0, y: 30, w: 6, h: 3 } },
  });
  expect(note.status()).toBe(201);
  await page.reload();
  const start = await positions();
  // Tall enough for the whole grid: a drag happens where the pointer can reach.
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 1500 });
  await page.getByRole("button", { name: "Arrange widgets" }).click();
  const grid = page.getByTestId("dash-edit-grid");
  await expect(grid.getByTestId("edit-chart")).toBeVisible();
  // Drag "Time by member" by its title to the right half, beside itself.
  const handle = grid.getByTestId("handle-Time by member");
  const box = (await handle.boundingBox())!;
  const cell = (await grid.boundingBox())!.width / 24;
  await page.mouse.move(box.x + 20, box.y + box.height / 2);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(box.x + 20 + (cell * 12 * k) / 10, box.y + box.height / 2 + 2);
  await page.mouse.up();
  await expect(grid.getByTestId("size-Time by member")).toContainText("at column 13");
  // Resize the chart by its corner: two rows taller.
  const corner = grid.getByTestId("edit-chart").locator(".react-resizable-handle");
  const cb = (await corner.boundingBox())!;
  await page.mouse.move(cb.x + cb.width / 2, cb.y + cb.height / 2);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(cb.x + cb.width / 2, cb.y + cb.height / 2 + (96 * k) / 10);
  await page.mouse.up();
  const chartAt = start["Work items by state"]!;
  await expect(grid.getByTestId("size-Work items by state")).toContainText(`12 × ${chartAt.h + 2}`);
  // The keyboard: the overview one column narrower.
  await grid.getByTestId("handle-Overview").focus();
  await page.keyboard.press("Shift+ArrowLeft");
  await expect(grid.getByTestId("size-Overview")).toContainText("23 × 4 at column 1");
  await shot(page, "28-dashboard-arrange");
  await page.getByRole("button", { name: "Save layout" }).click();
  await expect(grid).toHaveCount(0);
  const saved = await positions();
  expect(saved["Time by member"]!.x).toBe(12);
  expect(saved["Work items by state"]!.h).toBe(chartAt.h + 2);
  expect(saved["Overview"]).toEqual({ x: 0, y: 0, w: 23, h: 4 });
  expect(saved["Note"]).toEqual({ x: 0, y: 30, w: 6, h: 3 });
  // After a reload the grid is where it was saved: the time beside the chart's column.
  await page.reload();
  const time = page.getByTestId("widget-time_summary");
  const chart = page.getByTestId("widget-chart");
  await expect(time).toBeVisible();
  const [t, c] = await Promise.all([time.boundingBox(), chart.boundingBox()]);
  expect(t!.x).toBeGreaterThan(c!.x + c!.width - 1);
  // A second layout, then the history: version 2 current, version 1 restored.
  await page.getByRole("button", { name: "Arrange widgets" }).click();
  await page.getByTestId("dash-edit-grid").getByTestId("handle-Overview").focus();
  await page.keyboard.press("Shift+ArrowLeft");
  await expect(page.getByTestId("size-Overview")).toContainText("22 × 4");
  await expect(page.getByTestId("handle-Overview")).toBeFocused();
  await page.keyboard.press("Shift+ArrowLeft");
  await expect(page.getByTestId("size-Overview")).toContainText("21 × 4");
  await page.getByRole("button", { name: "Save layout" }).click();
  await expect(page.getByTestId("dash-edit-grid")).toHaveCount(0);
  expect((await positions())["Overview"]!.w).toBe(21);
  await page.getByRole("button", { name: "Layout history" }).click();
  const history = page.getByRole("region", { name: "Layout history" });
  await expect(history.getByTestId("layout-v2")).toContainText("current");
  await shot(page, "29-dashboard-layouts");
  await history.getByRole("button", { name: "Restore version 1" }).click();
  await expect(history.getByTestId("layout-v3")).toContainText("restored version 1");
  expect(await positions()).toEqual(saved);
  if (viewport) await page.setViewportSize(viewport);
  await page.getByRole("button", { name: "Layout history" }).click();
}

test("account: display name and password change", async ({ page }) => {
  const base = process.env.KEEL_URL!;
  const problems = watchConsole(page);
  await signIn(page, base);
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
  await page.getByRole("link", { name: "Account" }).click();

  await page.getByLabel("Display name").fill("  ");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Required")).toBeVisible();
  await page.getByLabel("Display name").fill("Olivia O.");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await expect(page.locator(".who")).toHaveText("Olivia O.");

  const newPassword = "a brand new secret";
  await page.getByLabel("Current password").fill("not my password");
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Repeat the new password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("The current password is wrong.");
  await page.getByLabel("Current password").fill(OWNER.password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed.")).toBeVisible();
  await shot(page, "07-account");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("do not match");
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
  expect(problems).toEqual([]);
});
