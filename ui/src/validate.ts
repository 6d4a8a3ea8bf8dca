// Checks run before a form is sent; the same rules the server applies, so a person sees
// the problem at once. The server's answer still decides.
export type Errors = Record<string, string>;

export const rules = {
  email: (v: string) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? "" : "Enter a valid email address"),
  password: (v: string) => (v.length < 8 ? "At least 8 characters" : v.length > 128 ? "At most 128 characters" : ""),
  name: (v: string) => (!v.trim() ? "Required" : v.trim().length > 80 ? "At most 80 characters" : ""),
  slug: (v: string) =>
    /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/.test(v) && v.length >= 2 ? "" : "2–48 lower-case letters, digits and hyphens, not at either end",
  identifier: (v: string) => (/^[A-Z0-9]{2,12}$/.test(v) ? "" : "2–12 upper-case letters or digits"),
};

/** A department's fields, as `org::records` checks them. */
export function deptRules(d: { name: string; code: string; short_name: string; dept_code: string }): Errors {
  const out: Errors = {};
  if (!d.name.trim()) out.name = "Required";
  else if (d.name.trim().length > 255) out.name = "At most 255 characters";
  if (!/^[A-Za-z0-9_-]{1,20}$/.test(d.code.trim())) out.code = "1–20 letters, digits, - or _";
  if (!/^[A-Z0-9]{1,10}$/.test(d.short_name.trim().toUpperCase())) out.short_name = "1–10 letters or digits";
  if (!/^[0-9]{4}$/.test(d.dept_code.trim())) out.dept_code = "Exactly 4 digits";
  return out;
}

/** The server's rules of a staff record (`org::records::STAFF_PROFILES`, `STAFF_PRIVATE`). */
export function staffRules(s: { staff_id: string; phone: string; position: string; job_grade: string }): Errors {
  const out: Errors = {};
  if (!/^[A-Za-z0-9_-]{1,8}$/.test(s.staff_id.trim())) out.staff_id = "1–8 letters, digits, - or _";
  const phone = s.phone.trim();
  if (phone && (phone.length > 20 || !/^[0-9 +().-]+$/.test(phone) || !/[0-9]/.test(phone))) out.phone = "Up to 20 digits, spaces or + - ( ) .";
  if (s.position.trim().length > 255) out.position = "At most 255 characters";
  if (s.job_grade.trim().length > 50) out.job_grade = "At most 50 characters";
  return out;
}

export function check(fields: Record<string, [string, (v: string) => string]>): Errors {
  const out: Errors = {};
  for (const [k, [v, rule]] of Object.entries(fields)) {
    const e = rule(v);
    if (e) out[k] = e;
  }
  return out;
}

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
}

export function identifierFrom(name: string): string {
  const words = name.toUpperCase().replace(/[^A-Z0-9 ]/g, " ").split(/\s+/).filter(Boolean);
  const id = words.length > 1 ? words.map((w) => w[0]).join("") : (words[0] ?? "").slice(0, 4);
  return id.slice(0, 12);
}
