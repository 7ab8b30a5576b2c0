"""The plan around a course: care team, therapy, medication plan, course decisions, boosters."""
