// Queries for exploring a memgraph space in Neo4j Browser or cypher-shell.
// Set the parameters first, e.g. in Neo4j Browser:
//   :param space => 'quickstart'
//   :param name => 'pepper'

// name: sessions_in_order
// The sessions of the space with their size.
MATCH (c:Conversation {space: $space})-[:HAS_SESSION]->(s:Session)
OPTIONAL MATCH (s)-[:HAS_EDU]->(e:EDU)
WITH c, s, count(e) AS edus
RETURN c.id AS conversation, s.name AS session, s.started_at AS date, edus
ORDER BY conversation, s.index

// name: edus_about_argument
// Every EDU that mentions an argument, with its session and source turns.
MATCH (a:Argument {space: $space, normalized: $name})<-[:HAS_ARGUMENT]-(e:EDU)-[:FROM_TURN]->(t:Turn)
MATCH (s:Session)-[:HAS_EDU]->(e)
RETURN s.name AS session, s.started_at AS date, e.text AS edu, collect(t.turn_id) AS turns
ORDER BY s.index

// name: argument_neighbourhood
// An argument, its near-synonyms and the EDUs around both, to view as a graph.
MATCH (a:Argument {space: $space, normalized: $name})
OPTIONAL MATCH path = (a)-[:SIMILAR_TO*0..1]-(:Argument)<-[:HAS_ARGUMENT]-(:EDU)
RETURN a, path
LIMIT 100

// name: busiest_arguments
// The arguments that most EDUs share: the hubs of the space.
MATCH (a:Argument {space: $space})<-[:HAS_ARGUMENT]-(e:EDU)
RETURN a.name AS argument, a.kind AS kind, count(e) AS edus
ORDER BY edus DESC
LIMIT 25

// name: turn_with_its_edus
// A raw turn and the EDUs made from it.
MATCH (t:Turn {space: $space, turn_id: $turn_id})<-[:FROM_TURN]-(e:EDU)
RETURN t.speaker AS speaker, t.text AS turn, collect(e.text) AS edus
