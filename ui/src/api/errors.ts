import { ApiError } from "./client";

// What each stable error code means to a person. Unknown codes fall back to the server's
// own message, which is always a readable sentence.
const MESSAGES: Record<string, string> = {
  network: "Keel could not be reached. Check that it is running and try again.",
  invalid_credentials: "That email and password do not match an account.",
  invalid_token: "Your session has ended. Please sign in again.",
  unauthenticated: "Please sign in to continue.",
  refresh_token_reused: "This session was ended for safety. Please sign in again.",
  session_required: "This needs a signed-in session, not an API token.",
  rate_limited: "Too many attempts. Wait a moment and try again.",
  email_taken: "An account with this email already exists.",
  registration_closed: "This Keel does not accept new accounts. Ask its admin for an invitation.",
  invitation_required: "This Keel registers invited people only. Use the email your invitation was sent to.",
  wrong_password: "The current password is wrong.",
  slug_taken: "That URL name is taken. Choose another.",
  identifier_taken: "Another project in this workspace uses that identifier.",
  already_member: "That person is already a member.",
  already_invited: "That email already has a pending invitation.",
  user_not_found: "No account uses that email. Send an invitation instead.",
  role_too_high: "You cannot give a role above your own.",
  owner_required: "Only an owner can do that.",
  last_owner: "A workspace needs at least one owner. Make someone else owner first.",
  last_admin: "A project needs at least one admin. Make someone else admin first.",
  not_workspace_member: "Only members of the workspace can join its projects.",
  role_above_workspace_role: "A workspace guest can only be a project guest.",
  project_archived: "This project is archived. Unarchive it to change it.",
  invitation_expired: "This invitation has expired. Ask for a new one.",
  invitation_used: "This invitation was already used.",
  invitation_email_mismatch: "This invitation is for another email address. Sign in with that one.",
  time_tracking_disabled: "Time tracking is turned off for this project.",
  timer_running: "A timer is already running. Stop or discard it first.",
  timer_too_long: "The timer ran over 24 hours. Say how many minutes to log.",
  guests_cannot_log_time: "Guests cannot log time in this project.",
  issue_gone: "The timer's issue was deleted. Discard the timer.",
  not_worklog_author: "Only the person who logged the time or a project admin can change it.",
  not_issue_author: "Only the issue's creator or a project admin can delete it.",
  not_comment_author: "Only the author can change this comment.",
  not_creator: "Only its creator or a project admin can change it.",
  state_exists: "This project already has a state with that name.",
  state_in_use: "Move the issues in this state to another state first.",
  default_state: "Make another state the default first.",
  label_exists: "This project already has a label with that name.",
  module_exists: "This project already has a module with that name.",
  cycle_overlaps: "Those dates overlap another cycle.",
  export_too_large: "Too many work logs to export at once. Narrow the dates.",
  department_code_taken: "Another department of this workspace uses that code.",
  department_short_name_taken: "Another department of this workspace uses that short name.",
  department_dept_code_taken: "Another department of this workspace uses that department code.",
  department_cycle: "A department cannot go below itself or one of its sub-departments.",
  department_too_deep: "Departments nest at most five levels deep.",
  department_has_children: "Say where this department's sub-departments go first.",
  department_has_staff: "Say where the people of this department go first.",
  member_through_department: "This person is a member because they manage a department linked to this project. Change the department's manager instead.",
  staff_id_taken: "Another person of this workspace has that staff ID.",
  staff_record_exists: "This person already has a staff record here.",
  staff_already_resigned: "This person has already left.",
  staff_inactive: "Only people who work here now can be transferred.",
  transfer_same_department: "They are already in that department.",
  import_invalid: "Some rows of the file have problems; nothing was imported.",
  import_unreadable: "That file cannot be read as CSV or JSON. Save it as \"CSV UTF-8\" and try again.",
  import_too_large: "That file has too many rows for one import (20,000 at most).",
  not_found: "That does not exist, or you cannot see it.",
  forbidden: "You do not have permission to do that.",
  validation_failed: "Some fields need attention.",
  payload_too_large: "That is too large to send.",
  request_timeout: "Keel took too long to answer. Try again.",
  host_not_allowed: "This server does not answer to that address.",
  internal: "Something went wrong inside Keel. The error was logged; try again.",
};

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return MESSAGES[e.code] ?? e.message;
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}

export function fieldsOf(e: unknown): Record<string, string> {
  return e instanceof ApiError ? e.fields : {};
}
