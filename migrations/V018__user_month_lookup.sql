-- One person's months (time by department cuts each moved person's total at their
-- transfers). The month rollup's key starts with the month, so a person's months over two
-- years read every member's: 4,800 rows at 200 members, for each cut; with 30 moved people
-- that was half of a two-year summary's 26 ms. This index reads the person's own months.
CREATE INDEX worklog_user_month_user ON worklog_user_month(workspace_id, user_id, month, minutes);
