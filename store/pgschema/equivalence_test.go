package pgschema_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/store/pgschema"

	"github.com/jackc/pgx/v5"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/store"
)

// description is a schema as a database reports it, in a form both
// dialects share.
type description struct {
	tables  map[string][]string // table: its columns in order, "name family [not null] [default X]"
	keys    []string            // primary keys and unique constraints, sorted
	indexes []string            // the other indexes: name, table, columns, predicate; sorted
	views   map[string][]string // view: its column names in order
	checks  []string            // per table, the values its CHECKs name ("replies: 'drafting'"), sorted
}

// literalRE finds a quoted value in a CHECK.
var literalRE = regexp.MustCompile(`'[^']*'`)

// checkValues lists the quoted values in the CHECK clauses of def, each
// as "table: 'value'".
func checkValues(table, def string) []string {
	var out []string
	for rest := def; ; {
		i := strings.Index(strings.ToUpper(rest), "CHECK")
		if i < 0 {
			return out
		}
		rest = rest[i:]
		open := strings.Index(rest, "(")
		depth, end := 0, len(rest)
		for j := open; j >= 0 && j < len(rest); j++ {
			if rest[j] == '(' {
				depth++
			} else if rest[j] == ')' {
				if depth--; depth == 0 {
					end = j
					break
				}
			}
		}
		for _, lit := range literalRE.FindAllString(rest[:end], -1) {
			out = append(out, table+": "+lit)
		}
		rest = rest[end:]
	}
}

// family is a declared column type reduced to what both dialects mean by
// it; a text column checked to hold JSON is "json".
func family(typ string) string {
	switch t := strings.ToLower(typ); t {
	case "text", "character varying":
		return "text"
	case "integer", "bigint", "smallint":
		return "integer"
	case "real", "double precision", "numeric":
		return "real"
	case "json", "jsonb":
		return "json"
	case "blob", "bytea":
		return "blob"
	default:
		return t // unmapped: shows up as a difference
	}
}

// normExpr makes a default or an index predicate comparable across the
// dialects: PostgreSQL adds casts and parentheses SQLite does not.
var castRE = regexp.MustCompile(`::[a-z ]+`)

func normExpr(e string) string {
	e = castRE.ReplaceAllString(e, "")
	return strings.NewReplacer("(", "", ")", "", " ", "", "\n", "", "\t", "").Replace(e)
}

func column(name, fam string, notNull bool, dflt string) string {
	s := name + " " + fam
	if notNull {
		s += " not null"
	}
	if dflt != "" {
		s += " default " + normExpr(dflt)
	}
	return s
}

// describeSQLite describes the database store.Open made at path.
func describeSQLite(t *testing.T, path string) description {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	d := description{tables: map[string][]string{}, views: map[string][]string{}}
	type object struct{ kind, name, sql string }
	var objects []object
	rows, err := db.Query(`SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.sql); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	jsonRE := regexp.MustCompile(`json_valid\(\s*(\w+)\s*\)`)
	for _, o := range objects {
		jsonCols := map[string]bool{}
		for _, m := range jsonRE.FindAllStringSubmatch(o.sql, -1) {
			jsonCols[m[1]] = true
		}
		type col struct {
			name, typ, dflt string
			notNull, pk     int
		}
		var cols []col
		rows, err := db.Query(`SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, o.name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c col
			if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if o.kind == "view" {
			for _, c := range cols {
				d.views[o.name] = append(d.views[o.name], c.name)
			}
			continue
		}
		d.checks = append(d.checks, checkValues(o.name, o.sql)...)
		var pk []string
		for _, c := range cols {
			fam := family(c.typ)
			if jsonCols[c.name] {
				fam = "json"
			}
			// A key column is never NULL (STRICT enforces it; an INTEGER
			// PRIMARY KEY is the rowid), though table_info says 0.
			d.tables[o.name] = append(d.tables[o.name], column(c.name, fam, c.notNull == 1 || c.pk > 0, c.dflt))
		}
		slices.SortFunc(cols, func(a, b col) int { return a.pk - b.pk })
		for _, c := range cols {
			if c.pk > 0 {
				pk = append(pk, c.name)
			}
		}
		if len(pk) > 0 {
			d.keys = append(d.keys, fmt.Sprintf("%s primary key (%s)", o.name, strings.Join(pk, ", ")))
		}
		type index struct {
			name, origin    string
			unique, partial int
		}
		var idx []index
		rows, err = db.Query(`SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, o.name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var i index
			if err := rows.Scan(&i.name, &i.unique, &i.origin, &i.partial); err != nil {
				t.Fatal(err)
			}
			idx = append(idx, i)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			if i.origin == "pk" {
				continue // from table_info above
			}
			var names []string
			rows, err := db.Query(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, i.name)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				names = append(names, n)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if i.unique == 1 {
				d.keys = append(d.keys, fmt.Sprintf("%s unique (%s)", o.name, strings.Join(names, ", ")))
				continue
			}
			pred := ""
			if i.partial == 1 {
				var def string
				if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, i.name).Scan(&def); err != nil {
					t.Fatal(err)
				}
				pred = whereRE.FindStringSubmatch(def)[1]
			}
			d.indexes = append(d.indexes, indexLine(i.name, o.name, names, pred))
		}
	}
	slices.Sort(d.keys)
	slices.Sort(d.indexes)
	slices.Sort(d.checks)
	return d
}

// whereRE finds a partial index's predicate in its CREATE INDEX.
var whereRE = regexp.MustCompile(`(?is)\bWHERE\b(.*)$`)

func indexLine(name, table string, cols []string, pred string) string {
	s := fmt.Sprintf("%s on %s (%s)", name, table, strings.Join(cols, ", "))
	if pred != "" {
		s += " where " + normExpr(pred)
	}
	return s
}

// describePG describes the current schema of the database conn is on,
// less Migrate's schema_version.
func describePG(t *testing.T, conn *pgx.Conn) description {
	t.Helper()
	ctx := context.Background()
	d := description{tables: map[string][]string{}, views: map[string][]string{}}
	rows, err := conn.Query(ctx, `
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, NULL), a.attnotnull,
       coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''),
       coalesce(co.collname, ''),
       EXISTS (SELECT 1 FROM pg_constraint k
               WHERE k.conrelid = c.oid AND k.contype = 'c' AND k.conkey = ARRAY[a.attnum]
                 AND pg_get_constraintdef(k.oid) ~ '::json\M')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') AND c.relname <> 'schema_version'
ORDER BY c.relname, a.attnum`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, kind, name, typ, dflt, coll string
		var notNull, jsonChecked bool
		if err := rows.Scan(&table, &kind, &name, &typ, &notNull, &dflt, &coll, &jsonChecked); err != nil {
			t.Fatal(err)
		}
		if kind == "v" {
			d.views[table] = append(d.views[table], name)
			continue
		}
		if table == "comments" && name == "rowid" {
			continue // SQLite's implicit rowid, explicit in PostgreSQL
		}
		fam := family(typ)
		if fam == "text" && coll != "C" {
			t.Errorf("%s.%s: text collated %q, want \"C\" (bytewise, as SQLite)", table, name, coll)
		}
		if jsonChecked {
			fam = "json"
		}
		d.tables[table] = append(d.tables[table], column(name, fam, notNull, dflt))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = conn.Query(ctx, `
SELECT ic.relname, c.relname, i.indisprimary, i.indisunique,
       array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord),
       coalesce(pg_get_expr(i.indpred, i.indrelid), '')
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname <> 'schema_version'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, table, pred string
		var primary, unique bool
		var cols []string
		if err := rows.Scan(&name, &table, &primary, &unique, &cols, &pred); err != nil {
			t.Fatal(err)
		}
		if name == "comments_rowid" {
			continue // the index of comments' explicit rowid
		}
		switch {
		case primary:
			d.keys = append(d.keys, fmt.Sprintf("%s primary key (%s)", table, strings.Join(cols, ", ")))
		case unique:
			d.keys = append(d.keys, fmt.Sprintf("%s unique (%s)", table, strings.Join(cols, ", ")))
		default:
			d.indexes = append(d.indexes, indexLine(name, table, cols, pred))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = conn.Query(ctx, `
SELECT c.relname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND k.contype = 'c' AND c.relname <> 'schema_version'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, def string
		if err := rows.Scan(&table, &def); err != nil {
			t.Fatal(err)
		}
		d.checks = append(d.checks, checkValues(table, def)...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(d.keys)
	slices.Sort(d.indexes)
	slices.Sort(d.checks)
	return d
}

// differences lists how a (SQLite) and b (PostgreSQL) differ.
func differences(a, b description) []string {
	var out []string
	lists := func(what string, x, y []string) {
		if !slices.Equal(x, y) {
			out = append(out, fmt.Sprintf("%s:\n  sqlite:     %s\n  postgresql: %s", what, strings.Join(x, " | "), strings.Join(y, " | ")))
		}
	}
	names := func(m map[string][]string) []string {
		var n []string
		for k := range m {
			n = append(n, k)
		}
		slices.Sort(n)
		return n
	}
	lists("tables", names(a.tables), names(b.tables))
	for _, tbl := range names(a.tables) {
		if _, ok := b.tables[tbl]; ok {
			lists("columns of "+tbl, a.tables[tbl], b.tables[tbl])
		}
	}
	lists("views", names(a.views), names(b.views))
	for _, v := range names(a.views) {
		if _, ok := b.views[v]; ok {
			lists("columns of view "+v, a.views[v], b.views[v])
		}
	}
	lists("primary keys and unique constraints", a.keys, b.keys)
	lists("indexes", a.indexes, b.indexes)
	lists("values the CHECKs name", a.checks, b.checks)
	return out
}

// both makes a SQLite database with store.Open and a PostgreSQL one with
// Migrate, and returns the SQLite file and a connection to the other.
func both(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	if err := pgschema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "autoreplyd.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path, conn
}

// The two schemas have the same tables, columns (in order, by type family,
// nullability and default), keys, indexes and replies_v.
func TestSameSchemaAsSQLite(t *testing.T) {
	path, conn := both(t)
	lite, pg := describeSQLite(t, path), describePG(t, conn)
	for _, d := range differences(lite, pg) {
		t.Error(d)
	}
	// The descriptions hold what they claim to: a description that lost a
	// part would compare equal and prove nothing.
	if len(lite.tables) != 10 || len(lite.views["replies_v"]) != 34 ||
		!slices.Contains(lite.tables["replies"], "instance text not null default ''") ||
		!slices.Contains(lite.indexes, "leases_holder on leases (holder)") || !slices.Contains(lite.keys, "replies unique (platform, comment_id, rule)") ||
		!slices.Contains(lite.indexes, "replies_due on replies (next_attempt_at) where status='retrying'") ||
		!slices.Contains(lite.tables["threads"], "labels json not null default '{}'") ||
		!slices.Contains(lite.checks, "replies: 'drafting'") || !slices.Contains(lite.checks, "comments: 'self'") {
		t.Errorf("the SQLite description misses parts: %d tables, replies_v %v, keys %v, indexes %v, threads %v",
			len(lite.tables), lite.views["replies_v"], lite.keys, lite.indexes, lite.tables["threads"])
	}
}

// The comparison fails when either schema gains a column, an index or a
// key the other lacks.
func TestComparisonSeesDifferences(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, pg, sqlite string
		want             string
	}{
		{"a PostgreSQL column", `ALTER TABLE meta ADD COLUMN extra text COLLATE "C"`, "", "columns of meta"},
		{"a SQLite column", "", `ALTER TABLE meta ADD COLUMN extra TEXT`, "columns of meta"},
		{"a type", `ALTER TABLE pauses ALTER COLUMN until TYPE timestamptz USING until::timestamptz`, "", "columns of pauses"},
		{"a JSON check", `ALTER TABLE drafts DROP CONSTRAINT drafts_notify_json`, "", "columns of drafts"},
		{"a unique key", `ALTER TABLE replies DROP CONSTRAINT replies_platform_comment_id_rule_key`, "", "unique constraints"},
		{"an index predicate", `DROP INDEX replies_due; CREATE INDEX replies_due ON replies (next_attempt_at) WHERE status = 'failed'`, "", "indexes"},
		{"a table", "", `CREATE TABLE extra (x TEXT) STRICT`, "tables"},
		{"a status", `ALTER TABLE replies DROP CONSTRAINT replies_status; ALTER TABLE replies ADD CONSTRAINT replies_status CHECK (status IN ('pending', 'sent'))`, "", "CHECKs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, conn := both(t)
			if c.pg != "" {
				if _, err := conn.Exec(ctx, c.pg); err != nil {
					t.Fatal(err)
				}
			}
			if c.sqlite != "" {
				db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath())
				if err != nil {
					t.Fatal(err)
				}
				_, err = db.Exec(c.sqlite)
				if err := errors.Join(err, db.Close()); err != nil {
					t.Fatal(err)
				}
			}
			diff := strings.Join(differences(describeSQLite(t, path), describePG(t, conn)), "\n")
			if !strings.Contains(diff, c.want) {
				t.Errorf("differences %q, want one in %s", diff, c.want)
			}
		})
	}
}
