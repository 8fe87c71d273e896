package check

import "github.com/atomix-failover/atomix-failover/internal/history"

// pruneUnseen drops one key's unanswered writes whose value no answered get
// read. Such a write changes nothing any operation observed: values are
// unique, its version was never returned, and a cas names a version it
// learned from a read. So the history with it is linearizable exactly when
// the history without it is (it can always go last, where nothing reads
// it), and porcupine is spared trying it at every point — with a dozen
// pending writes on a key the search would otherwise explode. A key keeps
// them all when an acknowledged cas expected a version no answer carried,
// or no version (existence alone): a pending write may be what it saw.
func pruneUnseen(ops []history.Op) []history.Op { return pruneUnseenWith(ops, answeredVersions(ops)) }

// answeredVersions are the versions the store returned in answers.
func answeredVersions(ops []history.Op) map[uint64]bool {
	versions := map[uint64]bool{}
	for _, op := range ops {
		if answered(op) && op.Version != nil {
			versions[*op.Version] = true
		}
	}
	return versions
}

// pruneUnseenWith is pruneUnseen of a window of a key's history, given the
// versions answered in the whole of it (a cas may name a version learned
// before the window).
func pruneUnseenWith(ops []history.Op, versions map[uint64]bool) []history.Op {
	read := map[string]bool{}
	for _, op := range ops {
		if op.Op == history.OpGet && answered(op) && op.Read != nil {
			read[*op.Read] = true
		}
	}
	for _, op := range ops {
		if op.Op == history.OpCAS && answered(op) && (op.ExpectVersion == nil || !versions[*op.ExpectVersion]) {
			return ops
		}
	}
	out := make([]history.Op, 0, len(ops))
	for _, op := range ops {
		if isWrite(op) && !answered(op) && op.Status != history.StatusFail && !read[op.Value] {
			continue
		}
		out = append(out, op)
	}
	return out
}
