"""The work beside requests: firing due timers (and the sweeper loop that does it in
`taskflow serve`), and the relay that delivers webhooks over HTTP."""
