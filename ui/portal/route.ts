import { useEffect, useState } from "preact/hooks";

/** go moves the portal to #/parts… */
export function go(...parts: string[]) {
  location.hash = "#/" + parts.map(encodeURIComponent).join("/");
}

/** useRoute follows the address's #/… part. */
export function useRoute(): string[] {
  const parse = () => (location.hash.replace(/^#\/?/, "") || "").split("/").filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
