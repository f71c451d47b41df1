'use strict';
// Warns before a password is typed when the server speaks plain HTTP beyond loopback.
// Retried a few times: a warning lost to one failed request would let the password go out unwarned.
function showInsecureWarning(triesLeft) {
  fetch('api/session', { credentials: 'same-origin' })
    .then(r => { if (!r.ok) throw new Error(`session ${r.status}`); return r.json(); })
    .then(s => { document.getElementById('insecure').hidden = !s.insecure; })
    .catch(() => { if (triesLeft > 0) setTimeout(() => showInsecureWarning(triesLeft - 1), 1000); });
}
showInsecureWarning(5);

// Signs in with the antiforgery token from /session (the login itself is protected against cross-site posts).
document.getElementById('login-form').addEventListener('submit', async event => {
  event.preventDefault();
  const error = document.getElementById('login-error');
  error.textContent = '';
  const session = await (await fetch('api/session', { credentials: 'same-origin' })).json();
  const response = await fetch('api/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-TOKEN': session.antiforgeryToken },
    body: JSON.stringify({ user: document.getElementById('user').value, password: document.getElementById('password').value }),
  });
  if (response.ok) {
    location.href = './';
  } else {
    const body = await response.json().catch(() => ({ error: `sign-in failed (${response.status})` }));
    error.textContent = body.error;
  }
});
