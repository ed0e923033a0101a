// bbolt-gen: create small bbolt files with the REAL bbolt package (Debian
// golang-github-coreos-bbolt-dev, bbolt 1.3.6) for page sizes other than 4096
// and for a synced freelist, plus a JSON manifest of their exact contents.
//
// Build/run without network via scripts/make-bolt-fixtures.sh
// (GO111MODULE=off GOPATH=/usr/share/gocode).
//
//	bbolt-gen -out fixtures/bolt          generate the .db files + .json manifests
//	bbolt-gen -check FILE...              run bbolt's own tx.Check() on each file (read-only)
//
// Manifest (<name>.json): page size, txid, meta info, db stats, tx.Check()
// result, per-bucket stats (depth, branch/leaf page counts, inline or not), and
// "entries": every bucket and key in cursor order (depth-first, bucket header
// first, then its keys in key order; nested buckets appear where their key
// sorts), with key hex, value length and value hex (<= 32 bytes) or value
// sha256 (> 32 bytes).  Bucket entries carry bbolt's BucketStats: note that
// depth/branch_pages/leaf_pages/key_n there INCLUDE nested sub-buckets
// (bbolt's Stats() is recursive), and root 0 means an inline bucket.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

type entry struct {
	Path        []string `json:"path"` // bucket path (bucket names are ASCII here)
	Kind        string   `json:"kind"` // "bucket" or "kv"
	KeyHex      string   `json:"key_hex,omitempty"`
	ValueLen    int      `json:"value_len"`
	ValueHex    string   `json:"value_hex,omitempty"`    // values <= 32 bytes (with value_len 0: empty value)
	ValueSHA256 string   `json:"value_sha256,omitempty"` // values > 32 bytes
	// buckets only
	Sequence *uint64 `json:"sequence,omitempty"`
	Root     *uint64 `json:"root,omitempty"` // 0 = inline bucket
	Depth    int     `json:"depth,omitempty"`
	BranchN  int     `json:"branch_pages,omitempty"`
	LeafN    int     `json:"leaf_pages,omitempty"`
	KeyN     int     `json:"key_n,omitempty"` // keys incl. sub-buckets, recursive (BucketStats.KeyN)
}

type manifest struct {
	File          string   `json:"file"`
	BboltVersion  string   `json:"bbolt_version"`
	Options       string   `json:"options"`
	PageSize      int      `json:"page_size"`
	TxID          int      `json:"txid"`
	TxSize        int64    `json:"tx_size"` // meta.pgid * pageSize
	FileSize      int64    `json:"file_size"`
	FreePageN     int      `json:"free_page_n"`
	PendingPageN  int      `json:"pending_page_n"`
	FreelistInUse int      `json:"freelist_inuse_bytes"`
	Check         []string `json:"check"` // tx.Check() errors; empty = OK
	TopBuckets    int      `json:"top_buckets"`
	TotalKV       int      `json:"total_kv"`
	TotalBuckets  int      `json:"total_buckets"`
	Entries       []entry  `json:"entries"`
}

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "bbolt-gen: "+f+"\n", a...)
	os.Exit(1)
}

func must(err error) {
	if err != nil {
		die("%v", err)
	}
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}

// fill writes the same logical content (modulo page-size dependent sizes) to db.
func fill(db *bolt.DB, seed int64, deletes bool) {
	r := rand.New(rand.NewSource(seed))
	ps := db.Info().PageSize
	// tx 1: main content
	must(db.Update(func(tx *bolt.Tx) error {
		// wide: enough keys for branch pages (>= 2 levels at any page size here)
		wide, err := tx.CreateBucket([]byte("wide"))
		if err != nil {
			return err
		}
		for i := 0; i < 600; i++ {
			k := []byte(fmt.Sprintf("w%06d", i))
			if err := wide.Put(k, randBytes(r, 8+r.Intn(24))); err != nil {
				return err
			}
		}
		// alpha: a few hundred keys, nested buckets 3 deep, binary keys, empty value
		alpha, err := tx.CreateBucket([]byte("alpha"))
		if err != nil {
			return err
		}
		for i := 0; i < 250; i++ {
			k := []byte(fmt.Sprintf("key-%05d", i))
			if err := alpha.Put(k, randBytes(r, 10+r.Intn(90))); err != nil {
				return err
			}
		}
		must(alpha.Put([]byte{0x00}, []byte("zero-key")))
		must(alpha.Put([]byte{0xff, 0xfe}, []byte{}))
		nested, err := alpha.CreateBucket([]byte("nested"))
		if err != nil {
			return err
		}
		for i := 0; i < 50; i++ {
			must(nested.Put([]byte(fmt.Sprintf("n%03d", i)), randBytes(r, 100)))
		}
		inner, err := nested.CreateBucket([]byte("inner"))
		if err != nil {
			return err
		}
		must(inner.Put([]byte("deepest"), []byte("value at alpha/nested/inner")))
		for i := 0; i < 5; i++ {
			if _, err := inner.NextSequence(); err != nil {
				return err
			}
		}
		// a nested bucket large enough to be non-inline
		nbig, err := alpha.CreateBucket([]byte("nested-big"))
		if err != nil {
			return err
		}
		for i := 0; i < 120; i++ {
			must(nbig.Put([]byte(fmt.Sprintf("nb%04d", i)), randBytes(r, 48)))
		}
		// inline (small) top-level bucket and an empty one
		tiny, err := tx.CreateBucket([]byte("tiny"))
		if err != nil {
			return err
		}
		must(tiny.Put([]byte("a"), []byte("1")))
		must(tiny.Put([]byte("b"), []byte("2")))
		tiny.SetSequence(42)
		_, err = tx.CreateBucket([]byte("empty"))
		if err != nil {
			return err
		}
		// overflow values: larger than one page
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		must(big.Put([]byte("one-and-a-half-pages"), randBytes(r, ps+ps/2)))
		must(big.Put([]byte("three-pages"), randBytes(r, 3*ps)))
		must(big.Put([]byte("twenty-k"), randBytes(r, 20000)))
		must(big.Put([]byte("small"), []byte("s")))
		return nil
	}))
	// tx 2: deletes and updates -> freed pages (freelist non-empty when synced).
	// Skipped for the page-size files to keep them small.
	must(db.Update(func(tx *bolt.Tx) error {
		if !deletes {
			return nil
		}
		wide := tx.Bucket([]byte("wide"))
		for i := 0; i < 600; i += 3 {
			if err := wide.Delete([]byte(fmt.Sprintf("w%06d", i))); err != nil {
				return err
			}
		}
		big := tx.Bucket([]byte("big"))
		must(big.Delete([]byte("three-pages")))
		must(tx.Bucket([]byte("alpha")).Put([]byte("key-00007"), []byte("updated in tx 2")))
		return nil
	}))
	// tx 3: a small update so the two meta pages differ by one txid
	must(db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("tiny")).Put([]byte("c"), []byte("3"))
	}))
}

// marshal: indented header, one compact line per entry (diff-friendly, small).
func marshal(m *manifest) []byte {
	ents := m.Entries
	m.Entries = nil
	head, err := json.MarshalIndent(m, "", " ")
	must(err)
	m.Entries = ents
	var sb strings.Builder
	h := strings.TrimSuffix(strings.TrimSpace(string(head)), "}")
	h = strings.TrimSuffix(strings.TrimSpace(h), "\"entries\": null")
	sb.WriteString(h)
	sb.WriteString("\"entries\": [\n")
	for i, e := range ents {
		js, err := json.Marshal(e)
		must(err)
		sb.Write(js)
		if i+1 < len(ents) {
			sb.WriteString(",")
		}
		sb.WriteString("\n")
	}
	sb.WriteString("]}\n")
	return []byte(sb.String())
}

func hexs(b []byte) string { return hex.EncodeToString(b) }

func u64p(v uint64) *uint64 { return &v }

func walk(b *bolt.Bucket, path []string, out *[]entry, m *manifest) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil { // nested bucket
			sub := b.Bucket(k)
			st := sub.Stats()
			p := append(append([]string{}, path...), string(k))
			*out = append(*out, entry{Path: p, Kind: "bucket", KeyHex: hexs(k),
				Sequence: u64p(sub.Sequence()), Root: u64p(uint64(sub.Root())), Depth: st.Depth,
				BranchN: st.BranchPageN, LeafN: st.LeafPageN, KeyN: st.KeyN})
			m.TotalBuckets++
			walk(sub, p, out, m)
			continue
		}
		e := entry{Path: path, Kind: "kv", KeyHex: hexs(k), ValueLen: len(v)}
		if len(v) <= 32 {
			e.ValueHex = hexs(v)
		} else {
			sum := sha256.Sum256(v)
			e.ValueSHA256 = hexs(sum[:])
		}
		*out = append(*out, e)
		m.TotalKV++
	}
}

// describe reads the contents of an open (read-write) db: a read-only open
// would not load the freelist, so free-page stats need the live db.
func describe(db *bolt.DB, path, opts string) *manifest {
	m := &manifest{File: filepath.Base(path), BboltVersion: "go.etcd.io/bbolt 1.3.6 (Debian golang-github-coreos-bbolt-dev)",
		Options: opts, PageSize: db.Info().PageSize, Check: []string{}, Entries: []entry{}}
	st := db.Stats()
	m.FreePageN, m.PendingPageN, m.FreelistInUse = st.FreePageN, st.PendingPageN, st.FreelistInuse
	must(db.View(func(tx *bolt.Tx) error {
		m.TxID = tx.ID()
		m.TxSize = tx.Size()
		for e := range tx.Check() {
			m.Check = append(m.Check, e.Error())
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m.TopBuckets++
			st := b.Stats()
			m.Entries = append(m.Entries, entry{Path: []string{}, Kind: "bucket", KeyHex: hexs(name),
				Sequence: u64p(b.Sequence()), Root: u64p(uint64(b.Root())), Depth: st.Depth,
				BranchN: st.BranchPageN, LeafN: st.LeafPageN, KeyN: st.KeyN})
			m.TotalBuckets++
			walk(b, []string{string(name)}, &m.Entries, m)
			return nil
		})
	}))
	return m
}

func generate(outDir string) {
	must(os.MkdirAll(outDir, 0755))
	type spec struct {
		name string
		opts bolt.Options
		desc string
		seed int64
		del  bool
	}
	specs := []spec{
		{"pagesize-8192.db", bolt.Options{PageSize: 8192, NoFreelistSync: true}, "PageSize 8192, NoFreelistSync true (like etcd)", 8192, false},
		{"pagesize-16384.db", bolt.Options{PageSize: 16384, NoFreelistSync: true}, "PageSize 16384, NoFreelistSync true (like etcd)", 16384, false},
		{"freelist-4096.db", bolt.Options{}, "default options (PageSize = OS page size 4096, NoFreelistSync false: freelist page synced)", 4096, true},
	}
	for _, s := range specs {
		p := filepath.Join(outDir, s.name)
		os.Remove(p)
		o := s.opts
		db, err := bolt.Open(p, 0644, &o)
		must(err)
		fill(db, s.seed, s.del)
		m := describe(db, p, s.desc)
		must(db.Close())
		if len(m.Check) > 0 {
			die("%s: tx.Check failed: %v", p, m.Check)
		}
		// bbolt grows the file in chunks; cut it to meta.pgid*pageSize (what
		// Tx.WriteTo / etcd snapshot save would emit) to keep fixtures small.
		must(os.Truncate(p, m.TxSize))
		m.FileSize = m.TxSize
		if check([]string{p}) != 0 {
			die("%s: tx.Check failed after truncation", p)
		}
		jp := strings.TrimSuffix(p, ".db") + ".json"
		must(os.WriteFile(jp, marshal(m), 0644))
		fmt.Printf("%-20s pageSize %-5d size %-7d txid %d buckets %d kv %d freePages %d check ok\n",
			s.name, m.PageSize, m.FileSize, m.TxID, m.TotalBuckets, m.TotalKV, m.FreePageN)
	}
}

func check(paths []string) int {
	rc := 0
	for _, p := range paths {
		// ReadOnly open; a trailing SHA-256 (etcd snapshot) beyond meta.pgid*pageSize is ignored by bbolt.
		db, err := bolt.Open(p, 0400, &bolt.Options{ReadOnly: true})
		if err != nil {
			fmt.Printf("%s: open error: %v\n", p, err)
			rc = 1
			continue
		}
		n := 0
		err = db.View(func(tx *bolt.Tx) error {
			for e := range tx.Check() {
				fmt.Printf("%s: %v\n", p, e)
				n++
			}
			st := db.Stats()
			if n == 0 {
				fmt.Printf("%s: OK (pageSize %d, txid %d, size %d, freePages %d)\n", p, db.Info().PageSize, tx.ID(), tx.Size(), st.FreePageN)
			}
			return nil
		})
		db.Close()
		if err != nil || n > 0 {
			rc = 1
		}
	}
	return rc
}

func main() {
	out := flag.String("out", "fixtures/bolt", "output directory")
	doCheck := flag.Bool("check", false, "run tx.Check() on the given files instead of generating")
	flag.Parse()
	if *doCheck {
		os.Exit(check(flag.Args()))
	}
	generate(*out)
}
