// Writes of one session. merge_session to delete_orphan_arguments run in one
// transaction, in this order, so a failed session leaves nothing half-written.
// link_similar_arguments and mark_session_ingested run in a second one, once
// the new arguments are committed and so visible to the vector index.

// name: ingested_sessions
// Sessions of a conversation already ingested by the given extractor checkpoint.
MATCH (s:Session {space: $space, conversation_id: $conversation_id})
WHERE s.checkpoint = $checkpoint
RETURN s.name AS name

// name: existing_arguments
// Arguments still flagged pending_links were created by a write that stopped
// before linking them; they count as new, so that they get linked.
UNWIND $ids AS id
MATCH (a:Argument {space: $space, id: id})
WHERE a.pending_links IS NULL
RETURN a.id AS id

// name: merge_session
MERGE (space:Space {id: $space})
  ON CREATE SET space.space = $space, space.created_at = datetime(), space.revision = 0
MERGE (c:Conversation {space: $space, id: $conversation_id})
  ON CREATE SET c.speakers = $speakers
MERGE (s:Session {space: $space, id: $session.id})
SET s.name = $session.name,
    s.conversation_id = $conversation_id,
    s.index = $session.index,
    s.started_at = $session.started_at,
    s.speakers = $session.speakers,
    s.checkpoint = null
MERGE (c)-[:HAS_SESSION]->(s)
WITH s
OPTIONAL MATCH (previous:Session {space: $space, conversation_id: $conversation_id, index: $session.index - 1})
OPTIONAL MATCH (following:Session {space: $space, conversation_id: $conversation_id, index: $session.index + 1})
FOREACH (p IN CASE WHEN previous IS NULL THEN [] ELSE [previous] END | MERGE (p)-[:NEXT]->(s))
FOREACH (f IN CASE WHEN following IS NULL THEN [] ELSE [following] END | MERGE (s)-[:NEXT]->(f))

// name: delete_session_edus
// Earlier EDUs of the session go first, so a re-extraction replaces them.
MATCH (:Session {space: $space, id: $session_id})-[:HAS_EDU]->(e:EDU)
OPTIONAL MATCH (e)-[:HAS_ARGUMENT]->(a:Argument)
WITH e, collect(DISTINCT a.id) AS argument_ids
DETACH DELETE e
WITH argument_ids
UNWIND argument_ids AS argument_id
RETURN collect(DISTINCT argument_id) AS argument_ids

// name: merge_turns
MATCH (s:Session {space: $space, id: $session_id})
UNWIND $turns AS turn
MERGE (t:Turn {space: $space, id: turn.id})
SET t.turn_id = turn.turn_id,
    t.session_id = $session_id,
    t.speaker = turn.speaker,
    t.text = turn.text,
    t.image_caption = turn.image_caption,
    t.position = turn.position,
    t.timestamp = turn.timestamp,
    t.embedding = turn.embedding
MERGE (s)-[:HAS_TURN]->(t)

// name: merge_arguments
UNWIND $arguments AS argument
MERGE (a:Argument {space: $space, id: argument.id})
  ON CREATE SET a.name = argument.name,
                a.normalized = argument.normalized,
                a.kind = argument.kind,
                a.embedding = argument.embedding,
                a.pending_links = true

// name: create_edus
MATCH (s:Session {space: $space, id: $session_id})
UNWIND $edus AS edu
CREATE (e:EDU {space: $space, id: edu.id})
SET e.text = edu.text,
    e.embedding = edu.embedding,
    e.session_id = $session_id,
    e.conversation_id = $conversation_id,
    e.position = edu.position,
    e.speakers = edu.speakers,
    e.time_text = edu.time_text,
    e.occurred_at = edu.occurred_at,
    e.source_turn_ids = edu.source_turn_ids,
    e.question = edu.question
CREATE (s)-[:HAS_EDU]->(e)
WITH e, edu
CALL (e, edu) {
  UNWIND edu.turn_keys AS turn_key
  MATCH (t:Turn {space: $space, id: turn_key})
  MERGE (e)-[:FROM_TURN]->(t)
}
CALL (e, edu) {
  UNWIND edu.arguments AS argument
  MATCH (a:Argument {space: $space, id: argument.id})
  MERGE (e)-[r:HAS_ARGUMENT]->(a)
  SET r.role = argument.role
}

// name: delete_orphan_arguments
// Arguments left without EDUs by a re-extraction.
UNWIND $argument_ids AS argument_id
MATCH (a:Argument {space: $space, id: argument_id})
WHERE NOT (a)<-[:HAS_ARGUMENT]-(:EDU)
DETACH DELETE a

// name: link_similar_arguments
// Joins each given argument to the at most $fetch arguments of the same space
// whose cosine score reaches $threshold, then clears its pending_links flag.
// The vector index is shared by all spaces, so it is over-fetched and
// filtered. When all $fetch candidates reach the threshold, other spaces may
// have crowded this one's out, and an exact scan over the space replaces them;
// so the links never depend on other spaces. The score is always computed
// exactly, so both ways store the same value.
UNWIND $argument_ids AS argument_id
MATCH (a:Argument {space: $space, id: argument_id})
REMOVE a.pending_links
WITH a
WHERE a.kind <> 'time'
CALL (a) {
  CALL db.index.vector.queryNodes('argument_embedding', $fetch, a.embedding) YIELD node, score
  RETURN count(node) = $fetch AND min(score) >= $threshold AS crowded, collect(node) AS candidates
}
CALL (a, crowded, candidates) {
  UNWIND CASE WHEN crowded THEN [] ELSE candidates END AS node
  WITH node
  WHERE node.space = $space
  RETURN node
  UNION
  WITH a, crowded
  WHERE crowded
  MATCH (node:Argument {space: $space})
  WHERE node <> a AND node.kind <> 'time'
  WITH node, vector.similarity.cosine(a.embedding, node.embedding) AS score
  WHERE score >= $threshold
  WITH node, score
  ORDER BY score DESC, node.id
  LIMIT $fetch
  RETURN node
}
WITH a, node, vector.similarity.cosine(a.embedding, node.embedding) AS score
WHERE node <> a AND node.kind <> 'time' AND score >= $threshold
MERGE (a)-[r:SIMILAR_TO]->(node)
SET r.score = score

// name: mark_session_ingested
MATCH (s:Session {space: $space, id: $session_id})
SET s.checkpoint = $checkpoint, s.ingested_at = datetime()
WITH s
MATCH (space:Space {id: $space})
SET space.revision = space.revision + 1, space.updated_at = datetime()
