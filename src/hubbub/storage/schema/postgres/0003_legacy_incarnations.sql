-- Registered channels kept before incarnations (SQLite's migration 0008): each gets an
-- incarnation of its own, and the history kept under its bare name moves there.
UPDATE messages SET conversation = conversation || ' legacy'
WHERE conversation IN (
    SELECT key FROM channels WHERE coalesce(data::jsonb ->> 'incarnation', '') = ''
);
UPDATE channels SET data = jsonb_set(data::jsonb, '{incarnation}', to_jsonb(key || ' legacy'))::text
WHERE coalesce(data::jsonb ->> 'incarnation', '') = '';
