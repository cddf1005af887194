-- Registered channels kept before incarnations (none in their JSON) kept what they said
-- while closed under their bare name, where whoever made the channel again after a drop
-- would read it. Each gets an incarnation of its own, and its history moves there: read
-- while the channel is closed, as it was written, and never under the name alone.
UPDATE messages SET conversation = conversation || ' legacy'
WHERE conversation IN (
    SELECT key FROM channels WHERE coalesce(json_extract(data, '$.incarnation'), '') = ''
);
UPDATE channels SET data = json_set(data, '$.incarnation', key || ' legacy')
WHERE coalesce(json_extract(data, '$.incarnation'), '') = '';
