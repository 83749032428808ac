package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// MaxNodes bounds how many node records one merge reads: a typo such as
// --out / must not make merge read a whole filesystem.
const MaxNodes = 4096

// maxDepth is how deep under a directory ReadInputs looks for records:
// OUT/slurm-<job>.<step>/<node>/record.json is two levels below OUT.
const maxDepth = 3

// ReadInputs reads the node records that paths name: a record file, a
// node directory holding record.json, or a job directory (such as
// OUT/slurm-4711.0) holding node directories, up to three levels down.
// Each record's bytes are kept verbatim for its digest.
func ReadInputs(paths []string) ([]Input, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		if _, err := os.Stat(filepath.Join(p, results.RecordFile)); err == nil {
			files = append(files, filepath.Join(p, results.RecordFile))
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(p, q)
			depth := strings.Count(filepath.ToSlash(rel), "/") + 1
			if d.IsDir() {
				if rel != "." && (depth > maxDepth || d.Name() == NodesDir) {
					// A cluster record's copies of its nodes are not
					// nodes of a new merge.
					return filepath.SkipDir
				}
				return nil
			}
			if d.Name() == results.RecordFile && d.Type().IsRegular() {
				found = append(found, q)
				if len(found) > MaxNodes {
					return fmt.Errorf("more than %d records under %s", MaxNodes, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%w: %s holds no %s (give the job directory run --out wrote under Slurm or Kubernetes, e.g. OUT/slurm-<job>.<step>)", ErrRefused, p, results.RecordFile)
		}
		files = append(files, found...)
	}
	if len(files) > MaxNodes {
		return nil, fmt.Errorf("%w: %d records, more than %d", ErrRefused, len(files), MaxNodes)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	in := make([]Input, 0, len(files))
	for _, f := range files {
		data, rec, err := results.ReadFileBytes(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		in = append(in, Input{Path: f, Data: data, Rec: rec})
	}
	return in, nil
}

// Write writes the cluster record into dir as record.json, with each node
// record copied verbatim to the path the record names for it, every file
// atomically; the node records go first, so that a cluster record on disk
// always has its nodes. It returns the cluster record's path.
func Write(dir string, rec *results.Record, in []Input) (string, error) {
	byDigest := map[string][]byte{}
	for _, x := range in {
		sum := sha256.Sum256(x.Data)
		byDigest[hex.EncodeToString(sum[:])] = x.Data
	}
	for _, n := range rec.Cluster.Nodes {
		data, ok := byDigest[n.SHA256]
		if !ok {
			return "", fmt.Errorf("write cluster record: node %s's record (sha256 %s) is not among the inputs", n.Name, n.SHA256)
		}
		p, err := nodePath(dir, n.Path)
		if err != nil {
			return "", err
		}
		if err := results.WriteFileAtomic(p, data, 0o644); err != nil {
			return "", err
		}
	}
	out := filepath.Join(dir, results.RecordFile)
	return out, results.WriteFile(out, rec)
}

// nodePath resolves a node record's path, as a cluster record states it,
// under the cluster record's directory; a path that would leave it
// (absolute, "..") is refused, since the record is outside input.
func nodePath(dir, p string) (string, error) {
	clean := path.Clean(p)
	// "." would name the cluster record's own directory, so the cluster
	// record itself (a run directory is read as its record.json).
	if p == "" || clean == "." || path.IsAbs(p) || strings.Contains(p, `\`) || clean == ".." || strings.HasPrefix(clean, "../") || clean != p {
		return "", fmt.Errorf("%w: node record path %q must be relative and inside the cluster record's directory", ErrTampered, p)
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// Load reads the node records of the cluster record rec, read from
// recPath, and checks them with Verify: a node record changed after the
// merge, missing, or a cluster figure that merge would not give is
// refused (ErrTampered).
func Load(recPath string, rec *results.Record) ([]Input, error) {
	if rec.Cluster == nil {
		return nil, fmt.Errorf("%s is not a cluster record (no cluster block)", recPath)
	}
	if len(rec.Cluster.Nodes) > MaxNodes {
		return nil, fmt.Errorf("%w: %d nodes, more than %d", ErrTampered, len(rec.Cluster.Nodes), MaxNodes)
	}
	dir := filepath.Dir(results.Path(recPath))
	in := make([]Input, 0, len(rec.Cluster.Nodes))
	for i, n := range rec.Cluster.Nodes {
		p, err := nodePath(dir, n.Path)
		if err != nil {
			return nil, fmt.Errorf("cluster.nodes[%d]: %w", i, err)
		}
		data, nr, err := results.ReadFileBytes(p)
		if err != nil {
			return nil, fmt.Errorf("%w: cluster.nodes[%d] (node %s): %v", ErrTampered, i, n.Name, err)
		}
		in = append(in, Input{Path: p, Data: data, Rec: nr})
	}
	return in, Verify(rec, in)
}

// Verify checks a cluster record against its node records: each node's
// bytes have the digest the record states, and merging them again gives
// the record (its run ID and tool aside), figure for figure.
func Verify(rec *results.Record, in []Input) error {
	if rec.Cluster == nil {
		return fmt.Errorf("record %s is not a cluster record", rec.RunID)
	}
	if len(in) != len(rec.Cluster.Nodes) {
		return fmt.Errorf("%w: it lists %d nodes, %d records were given", ErrTampered, len(rec.Cluster.Nodes), len(in))
	}
	for i, n := range rec.Cluster.Nodes {
		sum := sha256.Sum256(in[i].Data)
		if got := hex.EncodeToString(sum[:]); got != n.SHA256 {
			return fmt.Errorf("%w: node %s's record %s has sha256 %s, the cluster record (cluster.nodes[%d].sha256) says %s: it was changed after the merge", ErrTampered, n.Name, in[i].Path, got, i, n.SHA256)
		}
	}
	again, err := Merge(in, Options{RunID: rec.RunID, Tool: rec.Tool, WarnSkew: secs(rec.Cluster.WarnSkewS), MaxSkew: secs(rec.Cluster.MaxSkewS)})
	if err != nil {
		return fmt.Errorf("%w: its nodes no longer merge: %v", ErrTampered, err)
	}
	if rec.Cluster.WarnSkewS > WarnSkew.Seconds() || rec.Cluster.MaxSkewS > MaxSkew.Seconds() {
		return fmt.Errorf("%w: its skew limits (%gs warn, %gs refuse) are looser than joulebench's (%s, %s)", ErrTampered, rec.Cluster.WarnSkewS, rec.Cluster.MaxSkewS, WarnSkew, MaxSkew)
	}
	for _, part := range []struct {
		name string
		a, b any
	}{
		{"cluster", rec.Cluster, again.Cluster}, {"meters", rec.Meters, again.Meters}, {"idle", rec.Idle, again.Idle},
		{"workloads", rec.Workloads, again.Workloads}, {"host", rec.Host, again.Host}, {"config", rec.Config, again.Config},
		{"carbon", rec.Carbon, again.Carbon}, {"notes", rec.Notes, again.Notes}, {"readings", rec.Readings, again.Readings},
		{"trace", rec.Trace, again.Trace},
		{"command, clock and node", []any{rec.Command, rec.Clock, rec.Node, rec.IncompleteReason}, []any{again.Command, again.Clock, again.Node, again.IncompleteReason}},
		{"times", []any{rec.StartedAt, rec.FinishedAt, rec.Complete, rec.SchemaVersion}, []any{again.StartedAt, again.FinishedAt, again.Complete, again.SchemaVersion}},
	} {
		a, errA := jsonOf(part.a)
		b, errB := jsonOf(part.b)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			return fmt.Errorf("%w: its %s differ from what merging its node records gives", ErrTampered, part.name)
		}
	}
	return nil
}

// jsonOf is the JSON a part of a record is written as: two parts are the
// same when a reader sees the same thing.
func jsonOf(v any) ([]byte, error) { return json.Marshal(v) }
