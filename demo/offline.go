package demo

import (
	"context"
	"encoding/json"

	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
)

// The demo's offline objects.
const (
	ProfileName     = "Field Technician"
	ModelDrivenName = "Field Service"
	CanvasName      = "Field Inspections"
	SolutionName    = "fieldservice"
)

// FieldTechnicianItems are the items of the demo profile: a technician's
// own and team work orders, the accounts those work orders are for, those
// accounts' contacts, and every product.
func FieldTechnicianItems() []profile.ItemInput {
	return []profile.ItemInput{
		{Item: profile.Item{Table: "workorder", Rule: profile.RuleOrganization, UserRows: true, TeamRows: true, ImageColumns: []string{"photo"}, IntervalMinutes: 10}},
		{Item: profile.Item{Table: "account", Rule: profile.RuleRelated, Relationships: []string{"workorder_customerid"}, IntervalMinutes: 30}},
		{Item: profile.Item{Table: "contact", Rule: profile.RuleRelated, Relationships: []string{"contact_parentcustomerid"}, IntervalMinutes: 30}},
		{Item: profile.Item{Table: "product", Rule: profile.RuleAll, IntervalMinutes: 1440}},
	}
}

// seedOffline creates and publishes the "Field Technician" profile, the
// model-driven app "Field Service" and the canvas app "Field Inspections"
// (in the solution "fieldservice", with its web bundle), both offline on
// that profile.
func seedOffline(ctx context.Context, p *platform.Platform, e *Env) error {
	svc := apps.New(p)
	sys := platform.System()
	prof, err := svc.Create(ctx, sys, profile.Input{Name: ProfileName, Description: "What a field technician needs on the road.", Items: FieldTechnicianItems()})
	if err != nil {
		return err
	}
	if _, _, err := svc.Publish(ctx, sys, prof.ID); err != nil {
		return err
	}
	e.ProfileID = prof.ID
	open, _ := json.Marshal(map[string]any{"column": "completed", "operator": "eq", "value": false})
	done, _ := json.Marshal(map[string]any{"column": "completed", "operator": "eq", "value": true})
	search := []string{"name", "description"}
	md, err := svc.CreateApp(ctx, sys, apps.AppInput{Kind: apps.ModelDriven, Name: ModelDrivenName, Definition: apps.Definition{
		Tables: []string{"workorder"},
		Views: []apps.View{
			{Name: "Open work orders", Table: "workorder", Columns: []string{"name", "customerid", "scheduledstart", "priority"}, Filter: open,
				OrderBy: "scheduledstart", SearchColumns: search},
			{Name: "Completed work orders", Table: "workorder", Columns: []string{"name", "customerid", "scheduledstart"}, Filter: done,
				OrderBy: "scheduledstart desc", SearchColumns: search},
		},
		Forms: []apps.Form{{Name: "Work order", Table: "workorder",
			Columns: []string{"name", "customerid", "productid", "priority", "scheduledstart", "estimatedhours", "cost", "completed", "description", "photo"},
			Sections: []apps.Section{
				{Name: "Work order", Columns: []string{"name", "customerid", "productid", "priority"}},
				{Name: "Schedule and cost", Columns: []string{"scheduledstart", "estimatedhours", "cost", "completed"}},
				{Name: "Notes", Columns: []string{"description"}},
				{Name: "Photo", Columns: []string{"photo"}},
			},
			Required: []string{"name", "customerid"},
		}},
	}})
	if err != nil {
		return err
	}
	cv, err := svc.CreateApp(ctx, sys, apps.AppInput{Kind: apps.Canvas, Name: CanvasName, OwnerID: e.Maker.ID,
		Definition: apps.Definition{Tables: []string{"workorder", "account", "product"}}})
	if err != nil {
		return err
	}
	bundle, err := FieldInspectionsBundle()
	if err != nil {
		return err
	}
	if _, err := svc.PutBundle(ctx, sys, cv.ID, bundle); err != nil {
		return err
	}
	if _, err := svc.CreateSolution(ctx, sys, apps.SolutionInput{UniqueName: SolutionName, Name: "Field Service"}); err != nil {
		return err
	}
	if _, err := svc.AddComponents(ctx, sys, SolutionName, apps.Component{Kind: apps.KindApp, ID: cv.ID}); err != nil {
		return err
	}
	for _, id := range []string{md.ID, cv.ID} {
		if _, err := svc.SetOffline(ctx, sys, id, apps.OfflineInput{Enabled: true, ProfileID: prof.ID}); err != nil {
			return err
		}
		if _, err := svc.PublishApp(ctx, sys, id); err != nil {
			return err
		}
	}
	if _, err := svc.AddRequired(ctx, sys, SolutionName); err != nil {
		return err
	}
	e.ModelDrivenApp, e.CanvasApp = md.ID, cv.ID
	return nil
}
