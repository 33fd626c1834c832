"""`civicloop simulate`: a county's year driven through the gateway of a stack of its own, then its report.

The modules, from the bottom up: `scenario` (the county file), `demand` (who asks for what, when),
`gateway` (the HTTP client), `world` (the organisation and people registered at the start), `truth`
(the simulator's own record, saved for --resume), `people` (what each person does with an order),
`engine` (the run and its progress bar), `stack` (the simulation profile's stack and clock), `chaos`
(faults while it runs), `accounting` and `report` (every order accounted for; Markdown and PDF).
"""
