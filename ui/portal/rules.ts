// The rules of a profile item as the portal names them.
import type { Item } from "../shared/server";

export type Rule = Item["rule"];

/** maxRelationships is the limit the server's count is shown against. */
export const maxRelationships = 15;

/** rulesFor is the rules a table's ownership type offers (the server refuses the others, naming them). */
export function rulesFor(ownership: string): Rule[] {
  switch (ownership) {
    case "user":
      return ["related", "all", "organization", "custom"];
    case "organization":
      return ["related", "all", "custom"];
    case "business":
      return ["related", "all", "organization", "custom"];
    default:
      return ["related"];
  }
}

export const ruleLabels: Record<Rule, string> = {
  related: "Related rows only",
  all: "All rows",
  organization: "Organization rows",
  custom: "Custom",
};
