// Schema of a memgraph database. Every statement is idempotent (IF NOT EXISTS),
// so applying the file again changes nothing. Vector dimensions come from the
// embedder as $dimensions.

// name: conversation_key
CREATE CONSTRAINT conversation_key IF NOT EXISTS
FOR (n:Conversation) REQUIRE (n.space, n.id) IS UNIQUE

// name: session_key
CREATE CONSTRAINT session_key IF NOT EXISTS
FOR (n:Session) REQUIRE (n.space, n.id) IS UNIQUE

// name: turn_key
CREATE CONSTRAINT turn_key IF NOT EXISTS
FOR (n:Turn) REQUIRE (n.space, n.id) IS UNIQUE

// name: edu_key
CREATE CONSTRAINT edu_key IF NOT EXISTS
FOR (n:EDU) REQUIRE (n.space, n.id) IS UNIQUE

// name: argument_key
CREATE CONSTRAINT argument_key IF NOT EXISTS
FOR (n:Argument) REQUIRE (n.space, n.id) IS UNIQUE

// name: space_key
CREATE CONSTRAINT space_key IF NOT EXISTS
FOR (n:Space) REQUIRE n.id IS UNIQUE

// name: edu_space
CREATE INDEX edu_space IF NOT EXISTS FOR (n:EDU) ON (n.space)

// name: argument_space
CREATE INDEX argument_space IF NOT EXISTS FOR (n:Argument) ON (n.space)

// name: edu_embedding
CREATE VECTOR INDEX edu_embedding IF NOT EXISTS
FOR (n:EDU) ON n.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}}

// name: argument_embedding
CREATE VECTOR INDEX argument_embedding IF NOT EXISTS
FOR (n:Argument) ON n.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}}

// name: turn_embedding
CREATE VECTOR INDEX turn_embedding IF NOT EXISTS
FOR (n:Turn) ON n.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: 'cosine'}}

// name: text_fulltext
// English analyzer: lower case, stop words removed, words stemmed.
CREATE FULLTEXT INDEX text_fulltext IF NOT EXISTS
FOR (n:EDU|Turn) ON EACH [n.text]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'english'}}
