export function App() {
  return (
    <main>
      <h1>Anneal</h1>
      <p>Fine-tune on the GPU that fits: price and runtime before you submit.</p>
    </main>
  );
}
