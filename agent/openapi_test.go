package agent

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/outposthq/outpost/wire"
)

// TestOpenAPIMatchesGo keeps the one description of the local API and the
// Go bodies in step: every schema names the same JSON fields as the Go
// type of the same name, with compatible types, and every route the agent
// serves is described.
func TestOpenAPIMatchesGo(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	goTypes := []any{Session{}, SignInRequest{}, AppSummary{}, AppList{}, Column{}, Option{}, TableDef{}, View{}, Form{}, Section{}, AppDefinition{}, CanvasInfo{}, Progress{},
		TableStatus{}, DeviceStatus{}, RowPage{}, RowValues{}, Created{}, PendingChange{}, PendingList{}, SyncErrorItem{}, SyncErrorList{},
		SyncRequest{}, SignInProvider{}, SignInProviders{}, SSORequest{}, SSOStart{}, wire.ErrorBody{}, wire.ErrorDetail{}}
	seen := map[string]bool{"SyncState": true}
	for _, v := range goTypes {
		rt := reflect.TypeOf(v)
		seen[rt.Name()] = true
		sch, ok := doc.Components.Schemas[rt.Name()]
		if !ok {
			t.Errorf("openapi.json has no schema %s", rt.Name())
			continue
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[name] = f.Type
		}
		for name, ft := range fields {
			raw, ok := sch.Properties[name]
			if !ok {
				t.Errorf("%s.%s is in Go but not in openapi.json", rt.Name(), name)
				continue
			}
			var p struct {
				Type string `json:"type"`
				Ref  string `json:"$ref"`
			}
			_ = json.Unmarshal(raw, &p)
			if want := jsonType(ft); p.Ref == "" && p.Type != want {
				t.Errorf("%s.%s: openapi.json says %q, Go's %s is %q", rt.Name(), name, p.Type, ft, want)
			}
		}
		for name := range sch.Properties {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s.%s is in openapi.json but not in Go", rt.Name(), name)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !seen[name] {
			t.Errorf("openapi.json schema %s has no Go type in this test", name)
		}
	}

	// Every route of the agent is described, and nothing else.
	var described []string
	for path, ops := range doc.Paths {
		for method := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	served := append([]string(nil), Routes()...)
	sort.Strings(described)
	sort.Strings(served)
	if !reflect.DeepEqual(described, served) {
		t.Errorf("routes differ:\nopenapi.json %v\nagent        %v", described, served)
	}
}

func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Slice:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.Kind().String()
}
