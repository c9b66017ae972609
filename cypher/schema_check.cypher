// Reads used to verify the schema before any write.

// name: vector_dimensions
SHOW INDEXES YIELD name, type, options
WHERE type = 'VECTOR' AND name IN ['edu_embedding', 'argument_embedding', 'turn_embedding']
RETURN name, options.indexConfig['vector.dimensions'] AS dimensions

// name: await_indexes
CALL db.awaitIndexes($timeout_seconds)
