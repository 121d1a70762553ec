package knowledge_test

import (
	"reflect"
	"testing"
)

// TestHistoryFields checks the fields each entry of an article's history names as
// changed.
func TestHistoryFields(t *testing.T) {
	e := newEnv(t, nil)
	body := map[string]any{"id": "ship", "title": "几天发货", "category": "insale", "questions": []string{"什么时候发货"}, "answer": "48 小时内发货。", "status": "draft"}
	save := func(method, path string, changes map[string]any) {
		t.Helper()
		for k, v := range changes {
			body[k] = v
		}
		var a article
		if code := e.call("ed", method, path, body, &a); code/100 != 2 {
			t.Fatalf("%s %s: %d", method, path, code)
		}
		body["version"] = a.Version
	}
	save("POST", "/api/articles", nil)                                                                        // 1
	save("PUT", "/api/articles/ship", map[string]any{"status": "published"})                                  // 2
	save("PUT", "/api/articles/ship", map[string]any{"answer": "24 小时内发货。", "tags": []string{"发货"}})          // 3
	save("PUT", "/api/articles/ship", map[string]any{"title": "多久发货", "questions": []string{"什么时候发", "几天发"}}) // 4
	save("PUT", "/api/articles/ship", nil)                                                                    // 5: saved as it was
	if code := e.call("ed", "DELETE", "/api/articles/ship?version=5", nil, nil); code != 204 {                // 6
		t.Fatalf("delete: %d", code)
	}
	if code := e.call("ed", "POST", "/api/articles/ship/restore", map[string]int{"version": 2}, nil); code != 200 { // 7
		t.Fatalf("restore: %d", code)
	}

	var hist struct {
		Versions []struct {
			Version int      `json:"version"`
			Action  string   `json:"action"`
			Fields  []string `json:"fields"`
		} `json:"versions"`
	}
	if code := e.call("ed", "GET", "/api/articles/ship/versions", nil, &hist); code != 200 {
		t.Fatalf("versions: %d", code)
	}
	want := map[int][]string{
		7: {"title", "questions", "answer", "tags"}, // version 2's content against the deleted 5
		6: {},
		5: {},
		4: {"title", "questions"},
		3: {"answer", "tags"},
		2: {"status"},
		1: {},
	}
	if len(hist.Versions) != len(want) {
		t.Fatalf("history = %+v", hist.Versions)
	}
	for _, v := range hist.Versions {
		if !reflect.DeepEqual(v.Fields, want[v.Version]) {
			t.Errorf("version %d (%s) fields = %q, want %q", v.Version, v.Action, v.Fields, want[v.Version])
		}
	}
}
