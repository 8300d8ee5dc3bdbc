"""Analyses of a finished plan (only what-if's replan plans again, through the optimiser).

====================================  ==========================================================
``verify``                            the independent checker every plan passes before it is
                                      shown; shares no code with the model builder
``availability``                      front module of the availability engine (formulas, exact
                                      enumeration, Monte Carlo), split over ``availability_*``
``plan_availability``                 a plan turned into the availability engine's input
``whatif``                            front module of what-if (a failure's impact, the sweep of
                                      every failure, the repaired plan), split over ``whatif_*``
====================================  ==========================================================
"""
