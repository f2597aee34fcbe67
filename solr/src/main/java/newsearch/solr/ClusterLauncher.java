package newsearch.solr;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Starts a real SolrCloud cluster for newsearch's tests: Solr's own {@link MiniSolrCloudCluster}
 * (N Jetty nodes on 127.0.0.1, random ports, and an embedded ZooKeeper), the way Solr tests SolrCloud.
 *
 * <p>Usage: {@code java -cp target/classes:$(cat target/classpath.txt) newsearch.solr.ClusterLauncher
 * [--nodes N] [--dir DIR]}
 *
 * <p>Protocol on stdout, one line each: {@code NODE i URL} per node, {@code ZK host:port}, then
 * {@code READY}. Commands on stdin: {@code stop i} (answers {@code STOPPED i}), {@code start i}
 * (answers {@code STARTED i URL}, same port), {@code security FILE} (installs FILE as the cluster's
 * security.json in ZooKeeper, which every node watches: authentication on or off; answers
 * {@code SECURITY}), {@code quit}. End of stdin (the parent died or closed
 * the pipe) shuts the cluster down, so a test run never leaves Solr behind.
 */
public final class ClusterLauncher {

  private ClusterLauncher() {}

  public static void main(String[] args) throws Exception {
    int nodes = 2;
    Path dir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--nodes" -> nodes = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Paths.get(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (dir == null) {
      dir = Files.createTempDirectory("newsearch-solr-");
    }
    // Solr's logging goes to stderr; stdout carries only the protocol lines.
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    System.setProperty("host", "127.0.0.1");
    // Configsets uploaded over HTTP without authentication are "untrusted"; ours needs nothing more.
    System.setProperty("solr.log.dir", dir.resolve("logs").toString());

    MiniSolrCloudCluster cluster = new MiniSolrCloudCluster.Builder(nodes, dir).build();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(cluster)));
    try {
      List<JettySolrRunner> runners = cluster.getJettySolrRunners();
      for (int i = 0; i < runners.size(); i++) {
        out.println("NODE " + i + " " + runners.get(i).getBaseUrl());
      }
      out.println("ZK " + cluster.getZkServer().getZkAddress());
      out.println("READY");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] words = line.trim().split("\\s+");
        try {
          if (words[0].equals("quit")) {
            break;
          } else if (words[0].equals("stop") && words.length == 2) {
            int index = Integer.parseInt(words[1]);
            JettySolrRunner jetty = cluster.getJettySolrRunner(index);
            jetty.stop();
            cluster.waitForJettyToStop(jetty);
            out.println("STOPPED " + index);
          } else if (words[0].equals("start") && words.length == 2) {
            int index = Integer.parseInt(words[1]);
            JettySolrRunner jetty = cluster.getJettySolrRunner(index);
            jetty.start(true); // the same port, so clients that knew the node find it again
            cluster.waitForNode(jetty, 60);
            out.println("STARTED " + index + " " + jetty.getBaseUrl());
          } else if (words[0].equals("security") && words.length == 2) {
            byte[] json = Files.readAllBytes(Paths.get(words[1]));
            cluster.zkSetData("/security.json", json, true);
            out.println("SECURITY");
          } else if (!words[0].isEmpty()) {
            out.println("ERROR unknown command: " + line);
          }
        } catch (Exception e) {
          out.println("ERROR " + e);
        }
      }
    } finally {
      shutdown(cluster);
    }
    out.println("BYE");
    System.exit(0);
  }

  private static volatile boolean stopped;

  private static synchronized void shutdown(MiniSolrCloudCluster cluster) {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      cluster.shutdown();
    } catch (Exception e) {
      System.err.println("shutdown: " + e);
    }
  }
}
