package check

import (
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestStep(t *testing.T) {
	absent := state{}
	exact := state{present: true, value: "a", version: 5, vk: versionExact}
	above := state{present: true, value: "b", version: 5, vk: versionAbove}
	noVersion := state{present: true, value: "a"}
	ver := func(v uint64) output { return output{version: v, hasVersion: true} }
	read := func(value string, v uint64) output {
		return output{present: true, read: value, version: v, hasVersion: v != 0}
	}
	tests := []struct {
		name string
		s    state
		in   input
		out  output
		ok   bool
		next state
	}{
		{"put on absent", absent, input{kind: kindPut, value: "a"}, ver(5), true, exact},
		{"put with a higher version", exact, input{kind: kindPut, value: "b"}, ver(6), true, state{true, "b", 6, versionExact, false}},
		{"put with the same version", exact, input{kind: kindPut, value: "b"}, ver(5), false, exact},
		{"put without answer", exact, input{kind: kindPut, value: "b"}, output{unknown: true}, true, above},
		{"put without version", noVersion, input{kind: kindPut, value: "b"}, output{}, true, state{present: true, value: "b"}},
		{"get absent", absent, input{kind: kindGet}, output{}, true, absent},
		{"get absent when present", exact, input{kind: kindGet}, output{}, false, exact},
		{"get the value and version", exact, input{kind: kindGet}, read("a", 5), true, exact},
		{"get the value, another version", exact, input{kind: kindGet}, read("a", 6), false, exact},
		{"get the value without version", exact, input{kind: kindGet}, read("a", 0), true, exact},
		{"get another value", exact, input{kind: kindGet}, read("z", 5), false, exact},
		{"get learns a version above", above, input{kind: kindGet}, read("b", 9), true, state{true, "b", 9, versionExact, false}},
		{"get of a version not above", above, input{kind: kindGet}, read("b", 5), false, above},
		{"get learns a first version", noVersion, input{kind: kindGet}, read("a", 3), true, state{true, "a", 3, versionExact, false}},
		{"cas on the version", exact, input{kind: kindCAS, value: "b", expect: 5}, ver(7), true, state{true, "b", 7, versionExact, false}},
		{"cas on another version", exact, input{kind: kindCAS, value: "b", expect: 4}, ver(7), false, exact},
		{"cas on absent", absent, input{kind: kindCAS, value: "b", expect: 4}, ver(7), false, absent},
		{"cas without precondition", exact, input{kind: kindCAS, value: "b"}, ver(7), true, state{true, "b", 7, versionExact, false}},
		{"cas answered with an old version", exact, input{kind: kindCAS, value: "b", expect: 5}, ver(5), false, exact},
		{"cas above the version", above, input{kind: kindCAS, value: "c", expect: 8}, ver(9), true, state{true, "c", 9, versionExact, false}},
		{"unanswered cas on another version", exact, input{kind: kindCAS, value: "b", expect: 4}, output{unknown: true}, true, exact},
		{"unanswered cas on the version", exact, input{kind: kindCAS, value: "b", expect: 5}, output{unknown: true}, true, state{true, "b", 5, versionAbove, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, next := step(tt.s, tt.in, tt.out)
			if ok != tt.ok || next != tt.next {
				t.Errorf("step = %v %+v, want %v %+v", ok, next, tt.ok, tt.next)
			}
		})
	}
}

func TestModelPartitionsByKey(t *testing.T) {
	ops, err := operations(concat(cleanKey("k1"), cleanKey("k2")))
	if err != nil {
		t.Fatal(err)
	}
	parts := Model().Partition(ops)
	if len(parts) != 2 || len(parts[0]) != 8 || len(parts[1]) != 8 {
		t.Fatalf("partitions of %d and %d operations, want 2 of 8", len(parts[0]), len(parts[1]))
	}
	if !porcupine.CheckOperations(Model(), ops) {
		t.Error("CheckOperations = false, want true")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{describeOperation(input{kind: kindPut, value: "a"}, output{version: 3, hasVersion: true}), `put("a") → ok@3`},
		{describeOperation(input{kind: kindPut, value: "a"}, output{unknown: true}), `put("a") → unknown`},
		{describeOperation(input{kind: kindGet}, output{}), `get() → absent`},
		{describeOperation(input{kind: kindGet}, output{present: true, read: "a"}), `get() → "a"`},
		{describeOperation(input{kind: kindCAS, value: "b", expect: 3}, output{version: 4, hasVersion: true}), `cas("b" if @3) → ok@4`},
		{describeState(state{}), "absent"},
		{describeState(state{present: true, value: "a", version: 3, vk: versionExact}), `"a"@3`},
		{describeState(state{present: true, value: "a", version: 3, vk: versionAbove}), `"a"@>3`},
		{describeState(state{present: true, value: "a"}), `"a"`},
		{describeMetadata(opMeta{client: "c1", trial: 2, status: "unknown", err: "deadline"}), "client c1, trial 2, unknown: deadline"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
