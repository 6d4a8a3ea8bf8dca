-- A project may be its department's team project (issue 14, seed 003): the department's
-- managers join it. The department lives in the workspace document, the project in its own.
ALTER TABLE projects ADD COLUMN linked_department_id TEXT;
