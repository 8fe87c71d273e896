package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func review(t *testing.T, h http.Handler, desired string, objects ...string) conversionReview {
	t.Helper()
	raw := make([]json.RawMessage, len(objects))
	for i, o := range objects {
		raw[i] = json.RawMessage(o)
	}
	body, err := json.Marshal(conversionReview{
		APIVersion: "apiextensions.k8s.io/v1", Kind: "ConversionReview",
		Request: &conversionRequest{UID: "u1", DesiredAPIVersion: desired, Objects: raw},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/convert-cluster", bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out conversionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Response == nil || out.Response.UID != "u1" || out.Kind != "ConversionReview" {
		t.Fatalf("bad response %+v", out)
	}
	return out
}

func TestConversionWebhook(t *testing.T) {
	h := newConversionWebhook("RaftCluster",
		schema.GroupVersion{Group: "raft.atomix.io", Version: "v1beta2"},
		schema.GroupVersion{Group: "raft.atomix.io", Version: "v1beta3"})

	out := review(t, h, "raft.atomix.io/v1beta3",
		`{"apiVersion":"raft.atomix.io/v1beta2","kind":"RaftCluster","metadata":{"name":"c"},"spec":{"replicas":3}}`)
	if out.Response.Result.Status != "Success" || len(out.Response.ConvertedObjects) != 1 {
		t.Fatalf("want one converted object, got %+v", out.Response)
	}
	var obj map[string]any
	if err := json.Unmarshal(out.Response.ConvertedObjects[0], &obj); err != nil {
		t.Fatal(err)
	}
	if obj["apiVersion"] != "raft.atomix.io/v1beta3" || obj["spec"].(map[string]any)["replicas"] != 3.0 {
		t.Fatalf("converted object %v", obj)
	}

	for name, tc := range map[string]struct{ desired, object string }{
		"unserved target": {"raft.atomix.io/v1", `{"apiVersion":"raft.atomix.io/v1beta2","kind":"RaftCluster"}`},
		"other kind":      {"raft.atomix.io/v1beta3", `{"apiVersion":"raft.atomix.io/v1beta2","kind":"RaftStore"}`},
		"other group":     {"raft.atomix.io/v1beta3", `{"apiVersion":"atomix.io/v1beta2","kind":"RaftCluster"}`},
	} {
		if got := review(t, h, tc.desired, tc.object).Response.Result.Status; got != "Failure" {
			t.Errorf("%s: status %q, want Failure", name, got)
		}
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/convert-cluster", bytes.NewReader([]byte("{}"))))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("empty review: status %d, want 400", rec.Code)
	}
}
