package kubernetes

// Permission is one namespaced RBAC rule the target needs.
type Permission struct {
	// APIGroup is the API group ("" for the core group).
	APIGroup string
	// Resource is the plural resource name.
	Resource string
	// Verbs are the verbs the target calls on the resource, sorted.
	Verbs []string
}

var readVerbs = []string{"get", "list", "watch"}

// RequiredPermissions lists every API call the target makes, for both Atomix
// eras and both data paths; deployment.yaml's Role grants exactly these
// (checked by a test).
var RequiredPermissions = []Permission{
	{APIGroup: raftGV.Group, Resource: "raftstores", Verbs: readVerbs},
	{APIGroup: raftGV.Group, Resource: "raftpartitions", Verbs: readVerbs},
	{APIGroup: raftGV.Group, Resource: "raftreplicas", Verbs: readVerbs},
	{APIGroup: consensusGV.Group, Resource: "consensusstores", Verbs: readVerbs},
	{APIGroup: consensusGV.Group, Resource: "raftgroups", Verbs: readVerbs},
	{APIGroup: consensusGV.Group, Resource: "raftmembers", Verbs: readVerbs},
	{APIGroup: "", Resource: "pods", Verbs: []string{"delete", "get", "list", "watch"}},
	// The embedded data path lists and watches the store's DataStore.
	{APIGroup: dataStoreGVR.Group, Resource: dataStoreGVR.Resource, Verbs: []string{"list", "watch"}},
}
