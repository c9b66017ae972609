// Reads of retrieval. Vector indexes are shared by all spaces: the index is
// over-fetched ($fetch >= $k) and filtered to the space; when that leaves too
// few hits, the caller falls back to the exact scan over the space.

// name: space_revision
MATCH (space:Space {id: $space})
RETURN space.revision AS revision

// name: edu_seeds
CALL db.index.vector.queryNodes('edu_embedding', $fetch, $embedding) YIELD node, score
WITH node, score
WHERE node.space = $space
RETURN node.id AS id, score
ORDER BY score DESC
LIMIT $k

// name: edu_seeds_exact
MATCH (e:EDU {space: $space})
WITH e, vector.similarity.cosine(e.embedding, $embedding) AS score
RETURN e.id AS id, score
ORDER BY score DESC, id
LIMIT $k

// name: argument_seeds
CALL db.index.vector.queryNodes('argument_embedding', $fetch, $embedding) YIELD node, score
WITH node, score
WHERE node.space = $space
RETURN node.id AS id, score
ORDER BY score DESC
LIMIT $k

// name: argument_seeds_exact
MATCH (a:Argument {space: $space})
WITH a, vector.similarity.cosine(a.embedding, $embedding) AS score
RETURN a.id AS id, score
ORDER BY score DESC, id
LIMIT $k

// name: turn_seeds
CALL db.index.vector.queryNodes('turn_embedding', $fetch, $embedding) YIELD node, score
WITH node, score
WHERE node.space = $space
RETURN node.id AS id, score
ORDER BY score DESC
LIMIT $k

// name: turn_seeds_exact
MATCH (t:Turn {space: $space})
WHERE t.embedding IS NOT NULL
WITH t, vector.similarity.cosine(t.embedding, $embedding) AS score
RETURN t.id AS id, score
ORDER BY score DESC, id
LIMIT $k

// name: space_edus
// EDU nodes of the space with their session, for the propagation graph.
MATCH (e:EDU {space: $space})
RETURN e.id AS id, e.session_id AS session_id

// name: space_edu_arguments
MATCH (e:EDU {space: $space})-[:HAS_ARGUMENT]->(a:Argument)
RETURN e.id AS edu_id, a.id AS argument_id

// name: space_similar_arguments
MATCH (a:Argument {space: $space})-[r:SIMILAR_TO]->(b:Argument)
RETURN a.id AS source, b.id AS target, r.score AS score

// name: edu_details
// turn_score is the best similarity of the EDU's source turns to the query.
UNWIND $ids AS id
MATCH (e:EDU {space: $space, id: id})<-[:HAS_EDU]-(s:Session)
OPTIONAL MATCH (e)-[:FROM_TURN]->(t:Turn)
WITH e, s, max(vector.similarity.cosine(t.embedding, $embedding)) AS turn_score
RETURN e.id AS id, e.text AS text, e.conversation_id AS conversation_id, s.name AS session_id,
       s.started_at AS session_date, e.speakers AS speakers, e.source_turn_ids AS source_turn_ids,
       e.time_text AS time_text, e.occurred_at AS occurred_at,
       vector.similarity.cosine(e.embedding, $embedding) AS dense_score, turn_score,
       coalesce(e.question, false) AS question

// name: space_edu_turns
// Source turns of the space's EDUs, with their place in the session.
MATCH (e:EDU {space: $space})-[:FROM_TURN]->(t:Turn)
RETURN e.id AS edu_id, t.id AS turn_key, t.session_id AS session_id, t.position AS position

// name: text_seeds
// EDUs and turns of the space matching the query's words (Lucene, English
// stemming). The index is shared by all spaces, so it is over-fetched.
CALL db.index.fulltext.queryNodes('text_fulltext', $text, {limit: $fetch}) YIELD node, score
WITH node, score
WHERE node.space = $space
RETURN CASE WHEN node:EDU THEN 'edu' ELSE 'turn' END AS kind, node.id AS id, score
ORDER BY score DESC
LIMIT $k
