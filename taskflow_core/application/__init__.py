"""The application: commands and the request pipeline they run in (the write path), the
read side, and the one place answers are built. Uses the domain and the storage port."""
