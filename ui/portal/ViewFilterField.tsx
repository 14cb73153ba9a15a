/**
 * ViewFilterField edits a view's filter. For now it is a plain OData
 * $filter text box with the API's error shown at the field (the server
 * parses and checks the text when the app is saved, and answers with the
 * line and column).
 *
 * The hook for the expression builder: this component's props are the
 * whole contract — the table the filter is on, the filter as OData text,
 * the API's error for the field, and onChange with new text. To swap in
 * the profile editor's expression builder, render it here with the same
 * props (it may produce text, or a JSON tree sent as the view's `filter`
 * instead of `filterText`: the API takes either). Nothing else in the Apps
 * pages needs to change.
 */
export function ViewFilterField(props: { id: string; table: string; value: string; error?: string; onChange: (text: string) => void }) {
  const errId = props.id + "-error";
  return (
    <div class="view-filter">
      <label for={props.id}>Filter <small>OData $filter on {props.table}, e.g. <code>completed eq false</code>; empty shows every row</small></label>
      <textarea id={props.id} name="viewFilter" rows={2} value={props.value} aria-invalid={props.error ? "true" : undefined} aria-describedby={props.error ? errId : undefined}
        onInput={(e) => props.onChange(e.currentTarget.value)} />
      {props.error && <p id={errId} class="field-error filter-error" role="alert">{props.error}</p>}
    </div>
  );
}
