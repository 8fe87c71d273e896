package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// conversionReview is the part of apiextensions.k8s.io/v1 ConversionReview
// the handler reads and writes.
type conversionReview struct {
	APIVersion string              `json:"apiVersion"`
	Kind       string              `json:"kind"`
	Request    *conversionRequest  `json:"request,omitempty"`
	Response   *conversionResponse `json:"response,omitempty"`
}

type conversionRequest struct {
	UID               string            `json:"uid"`
	DesiredAPIVersion string            `json:"desiredAPIVersion"`
	Objects           []json.RawMessage `json:"objects"`
}

type conversionResponse struct {
	UID              string            `json:"uid"`
	ConvertedObjects []json.RawMessage `json:"convertedObjects"`
	Result           status            `json:"result"`
}

type status struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// newConversionWebhook stands in for controller v1.0.0's conversion.NewWebhook.
// The served versions of kind share one schema, so converting an object is
// rewriting its apiVersion; objects of another kind or group, or a target
// version that is not served, fail the review.
func newConversionWebhook(kind string, versions ...schema.GroupVersion) http.Handler {
	served := map[string]bool{}
	for _, gv := range versions {
		served[gv.String()] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var review conversionReview
		if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
			http.Error(w, "not a ConversionReview", http.StatusBadRequest)
			return
		}
		resp := &conversionResponse{UID: review.Request.UID, Result: status{Status: "Success"}}
		if converted, err := convert(kind, served, review.Request); err != nil {
			resp.Result = status{Status: "Failure", Message: err.Error()}
		} else {
			resp.ConvertedObjects = converted
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(conversionReview{
			APIVersion: review.APIVersion,
			Kind:       "ConversionReview",
			Response:   resp,
		})
	})
}

func convert(kind string, served map[string]bool, req *conversionRequest) ([]json.RawMessage, error) {
	if !served[req.DesiredAPIVersion] {
		return nil, fmt.Errorf("%s: version %q not served", kind, req.DesiredAPIVersion)
	}
	out := make([]json.RawMessage, 0, len(req.Objects))
	for _, raw := range req.Objects {
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
		if obj["kind"] != kind || !served[fmt.Sprint(obj["apiVersion"])] {
			return nil, fmt.Errorf("cannot convert %v %v", obj["apiVersion"], obj["kind"])
		}
		obj["apiVersion"] = req.DesiredAPIVersion
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
