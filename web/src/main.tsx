import { createRoot } from 'react-dom/client';

function App() {
  return (
    <main>
      <h1>Tributary</h1>
      <p>
        The API reference is at <a href="/docs">/docs</a>.
      </p>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
