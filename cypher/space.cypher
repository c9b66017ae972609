// Statistics and deletion of a memory space. Nothing here reads or deletes
// outside the given $space.

// name: stats
CALL (){ MATCH (n:Conversation {space: $space}) RETURN count(n) AS conversations }
CALL (){ MATCH (n:Session {space: $space}) RETURN count(n) AS sessions }
CALL (){ MATCH (n:Turn {space: $space}) RETURN count(n) AS turns }
CALL (){ MATCH (n:EDU {space: $space}) RETURN count(n) AS edus }
CALL (){ MATCH (n:Argument {space: $space}) RETURN count(n) AS arguments }
CALL (){ MATCH (:Argument {space: $space})-[r:SIMILAR_TO]->() RETURN count(r) AS similar_links }
CALL (){ MATCH (n {space: $space})-[r]->() RETURN count(r) AS relationships }
RETURN conversations, sessions, turns, edus, arguments, similar_links, relationships

// name: list_spaces
MATCH (space:Space)
RETURN space.id AS space ORDER BY space

// name: delete_space_batch
// Deletes up to $batch_size nodes of the space; the caller repeats until none remain.
MATCH (n {space: $space})
WITH n LIMIT $batch_size
DETACH DELETE n
RETURN count(*) AS deleted

// name: delete_session
// One session of a conversation, with its turns and EDUs, the arguments that
// no EDU uses afterwards, and the conversation once it has no session left.
MATCH (s:Session {space: $space, conversation_id: $conversation_id, name: $session_name})
OPTIONAL MATCH (s)-[:HAS_EDU]->(e:EDU)
OPTIONAL MATCH (e)-[:HAS_ARGUMENT]->(a:Argument)
WITH s, collect(DISTINCT e) AS edus, collect(DISTINCT a) AS arguments
OPTIONAL MATCH (s)-[:HAS_TURN]->(t:Turn)
WITH s, edus, arguments, collect(t) AS turns
FOREACH (e IN edus | DETACH DELETE e)
FOREACH (t IN turns | DETACH DELETE t)
DETACH DELETE s
WITH arguments
CALL () {
  MATCH (c:Conversation {space: $space, id: $conversation_id})
  WHERE NOT (c)-[:HAS_SESSION]->(:Session)
  DETACH DELETE c
}
UNWIND arguments AS a
WITH a WHERE NOT (a)<-[:HAS_ARGUMENT]-(:EDU)
DETACH DELETE a
RETURN count(a) AS orphans

// name: bump_revision
MATCH (space:Space {id: $space})
SET space.revision = space.revision + 1, space.updated_at = datetime()

// name: nodes
// Every node of the space with its labels and properties, for export and comparison.
MATCH (n {space: $space})
RETURN labels(n) AS labels, properties(n) AS properties

// name: relationships
// Every relationship that starts at a node of the space, with the space of its end node.
MATCH (n {space: $space})-[r]->(m)
RETURN labels(n) AS start_labels, n.id AS start_id, type(r) AS type, properties(r) AS properties,
       labels(m) AS end_labels, m.id AS end_id, m.space AS end_space
