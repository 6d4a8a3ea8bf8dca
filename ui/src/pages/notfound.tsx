import { Link } from "react-router";
import { useTitle } from "../components";

export function NotFound() {
  useTitle("Not found");
  return (
    <main className="centered">
      <div className="card narrow">
        <h1>Page not found</h1>
        <p>There is nothing at this address.</p>
        <Link to="/" className="button primary">
          Go to Keel
        </Link>
      </div>
    </main>
  );
}
