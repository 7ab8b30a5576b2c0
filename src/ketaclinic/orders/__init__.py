"""Treatment courses, signed orders (protocol, dose, pump rate) and planned sessions."""
