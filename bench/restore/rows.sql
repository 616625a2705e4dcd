-- The rows of the file: what the archive took out of the template.
SELECT 0;
