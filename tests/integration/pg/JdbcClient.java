// The PostgreSQL JDBC driver (Debian's libpostgresql-jdbc-java) against a running
// kalamdb-server's Postgres door, run as a single source file:
//   java -cp /usr/share/java/postgresql.jar JdbcClient.java <pg port> <root password>
// The user alice (password alice-password) must exist. Prints each check's name; the
// first failure exits non-zero.
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public class JdbcClient {
  static String url;

  static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError(what);
  }

  static Connection connect(String user, String password) throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  public static void main(String[] args) throws Exception {
    url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/kalam";
    String ns = "jdbc" + ProcessHandle.current().pid();
    try (Connection root = connect("root", args[1])) {
      try (Statement s = root.createStatement()) {
        s.execute("CREATE NAMESPACE " + ns);
        s.execute("CREATE SHARED TABLE " + ns + ".items (id BIGINT PRIMARY KEY, name TEXT, price DECIMAL(10,2), "
            + "ok BOOLEAN, added TIMESTAMP, raw BYTES)");
      }
      // Typed parameters; the driver prepares on the server after a few runs (prepareThreshold).
      long big = 9007199254740993L;
      Timestamp added = Timestamp.valueOf("2026-12-03 04:05:06.789012");
      try (PreparedStatement insert = root.prepareStatement(
               "INSERT INTO " + ns + ".items (id, name, price, ok, added, raw) VALUES (?, ?, ?, ?, ?, ?)")) {
        for (int i = 0; i < 10; i++) {
          insert.setLong(1, big + i);
          insert.setString(2, "it's #" + i);
          insert.setBigDecimal(3, new BigDecimal("12.50").add(BigDecimal.valueOf(i)));
          insert.setBoolean(4, i % 2 == 0);
          insert.setTimestamp(5, added);
          insert.setBytes(6, new byte[] {0, 1, (byte) 0xff, (byte) i});
          check(insert.executeUpdate() == 1, "one row inserted");
        }
      }
      try (PreparedStatement select = root.prepareStatement(
               "SELECT id, name, price, ok, added, raw FROM " + ns + ".items WHERE id = ?")) {
        for (int i = 0; i < 10; i++) {
          select.setLong(1, big + i);
          try (ResultSet rs = select.executeQuery()) {
            check(rs.next(), "a row for " + (big + i));
            check(rs.getLong(1) == big + i, "BIGINT past 2^53 exact: " + rs.getLong(1));
            check(rs.getString(2).equals("it's #" + i), "text: " + rs.getString(2));
            check(rs.getBigDecimal(3).compareTo(new BigDecimal("12.50").add(BigDecimal.valueOf(i))) == 0,
                "decimal: " + rs.getBigDecimal(3));
            check(rs.getBoolean(4) == (i % 2 == 0), "boolean");
            check(rs.getTimestamp(5).equals(added), "timestamp: " + rs.getTimestamp(5));
            check(Arrays.equals(rs.getBytes(6), new byte[] {0, 1, (byte) 0xff, (byte) i}), "bytea");
            check(!rs.next(), "one row");
          }
        }
      }
      System.out.println("ok typed parameters and results, prepared and reused");

      // Transactions.
      root.setAutoCommit(false);
      try (Statement s = root.createStatement()) {
        s.executeUpdate("INSERT INTO " + ns + ".items (id, name) VALUES (1, 'rolled back')");
        root.rollback();
        s.executeUpdate("INSERT INTO " + ns + ".items (id, name) VALUES (2, 'committed')");
        root.commit();
      }
      root.setAutoCommit(true);
      try (Statement s = root.createStatement();
           ResultSet rs = s.executeQuery("SELECT id FROM " + ns + ".items WHERE id < 10 ORDER BY id")) {
        List<Long> ids = new ArrayList<>();
        while (rs.next()) ids.add(rs.getLong(1));
        check(ids.equals(List.of(2L)), "after rollback and commit: " + ids);
      }
      System.out.println("ok transactions");

      // Errors carry their SQLSTATE.
      try (Statement s = root.createStatement()) {
        s.executeUpdate("INSERT INTO " + ns + ".items (id) VALUES (2)");
        throw new AssertionError("a duplicate key was inserted");
      } catch (SQLException e) {
        check("23505".equals(e.getSQLState()), "duplicate key: " + e.getSQLState());
      }
      try (Statement s = root.createStatement()) {
        s.executeQuery("SELECT * FROM " + ns + ".missing");
        throw new AssertionError("a missing table was read");
      } catch (SQLException e) {
        check("42P01".equals(e.getSQLState()), "missing table: " + e.getSQLState());
      }
      try {
        connect("alice", "wrong-password").close();
        throw new AssertionError("a wrong password signed in");
      } catch (SQLException e) {
        check("28P01".equals(e.getSQLState()), "wrong password: " + e.getSQLState());
      }
      System.out.println("ok errors with SQLSTATEs");

      // Metadata, as GUI tools read it: the table and its columns through pg_catalog.
      DatabaseMetaData meta = root.getMetaData();
      try (ResultSet rs = meta.getTables(null, ns, "items", null)) {
        check(rs.next(), "getTables finds the table");
        check(rs.getString("TABLE_NAME").equals("items"), "table name");
      }
      try (ResultSet rs = meta.getColumns(null, ns, "items", null)) {
        List<String> columns = new ArrayList<>();
        while (rs.next()) columns.add(rs.getString("COLUMN_NAME"));
        check(columns.containsAll(List.of("id", "name", "price", "ok", "added", "raw")), "getColumns: " + columns);
      }
      System.out.println("ok metadata through pg_catalog");
    }
    try (Connection alice = connect("alice", "alice-password");
         Statement s = alice.createStatement()) {
      try {
        s.executeQuery("SELECT * FROM system.jobs");
        throw new AssertionError("a user read system.jobs");
      } catch (SQLException e) {
        check("42501".equals(e.getSQLState()), "permission: " + e.getSQLState());
      }
    }
    System.out.println("all passed");
  }
}
