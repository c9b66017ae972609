import java.nio.file.Path;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs an embedded Neo4j Community DBMS with its Bolt connector on a loopback port
 * until the process receives SIGTERM.
 *
 * Arguments: home folder, Bolt port, page cache size in MiB.
 * Authentication is off because the connector listens on 127.0.0.1 only.
 */
public class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher HOME PORT PAGECACHE_MIB");
            System.exit(2);
        }
        Path home = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        long pageCacheMiB = Long.parseLong(args[2]);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(GraphDatabaseSettings.auth_enabled, false)
            .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMiB))
            .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));

        System.out.println("memgraph local Neo4j listening on bolt://127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
